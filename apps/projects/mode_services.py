"""Writes of a project's custom modes: a name, a system prompt and the tools it allows."""
from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from apps.chats.models import BUILTIN_MODES, Chat
from apps.core.errors import Conflict, ValidationFailed
from apps.projects.models import CustomMode, Project

MAX_SYSTEM_PROMPT = 20_000
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def custom_mode_name_validate(name: Any) -> str:
    """Raises ValidationFailed (field ``name``) unless ``name`` is a free slug."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationFailed("name must be a slug: lowercase letters, digits, - and _, at most 50 characters.",
                               field="name")
    if name in BUILTIN_MODES:
        raise ValidationFailed(f"'{name}' is a built-in mode; choose another name.", field="name")
    return name


def allowed_tools_validate(value: Any) -> list[str]:
    """Raises ValidationFailed naming the first unknown tool (field ``allowedTools[i]``)."""
    from apps.engine.tools import ALL_TOOLS

    if not isinstance(value, list):
        raise ValidationFailed("allowedTools must be a list of tool names.", field="allowedTools")
    tools: list[str] = []
    for position, tool in enumerate(value):
        if tool not in ALL_TOOLS:
            raise ValidationFailed(f"Unknown tool {tool!r} in allowedTools: the tools are {', '.join(ALL_TOOLS)}.",
                                   field=f"allowedTools[{position}]", code="unknown_tool")
        if tool not in tools:
            tools.append(tool)
    return tools


def _prompt_validate(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_SYSTEM_PROMPT:
        raise ValidationFailed(f"systemPrompt must be a string of at most {MAX_SYSTEM_PROMPT} characters.",
                               field="systemPrompt")
    return value


def custom_mode_create(*, project: Project, name: Any, system_prompt: Any = "",
                       allowed_tools: Any = None) -> CustomMode:
    """Raises ValidationFailed (a bad field, named) or Conflict (the name is taken in the project)."""
    mode = CustomMode(project=project, name=custom_mode_name_validate(name),
                      system_prompt=_prompt_validate(system_prompt),
                      allowed_tools=allowed_tools_validate([] if allowed_tools is None else allowed_tools))
    try:
        with transaction.atomic():
            mode.save()
    except IntegrityError:
        raise Conflict(f"The project already has a mode named '{mode.name}'.", code="mode_exists") from None
    return mode


def custom_mode_update(*, mode: CustomMode, system_prompt: Any = None, allowed_tools: Any = None) -> CustomMode:
    """Change the prompt and/or the tools (None leaves one as it is); the name is the mode's identity."""
    fields = []
    if system_prompt is not None:
        mode.system_prompt = _prompt_validate(system_prompt)
        fields.append("system_prompt")
    if allowed_tools is not None:
        mode.allowed_tools = allowed_tools_validate(allowed_tools)
        fields.append("allowed_tools")
    if fields:
        mode.save(update_fields=[*fields, "updated_at"])
    return mode


@transaction.atomic
def custom_mode_delete(*, mode: CustomMode) -> int:
    """Delete the mode; the project's chats in it go back to ``chat`` mode. Returns how many did."""
    moved = Chat.objects.filter(project_id=mode.project_id, mode=mode.name).update(mode="chat")
    mode.delete()
    return moved
