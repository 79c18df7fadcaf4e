"""Build-mode ``write_file`` through the engine (fake OpenAI upstream, real SDK): the same file
service as REST — versions, history, ``file.updated`` — and paths that never leave the project."""
from __future__ import annotations

import json
from typing import Any

import pytest

from apps.chats.models import Run
from apps.engine import api as engine
from apps.projects.models import ProjectFile, ProjectFileVersion
from tests.engine.conftest import FAKE_MODEL, collect, make_request, text_script
from tests.fakes.script import Script, ToolCallScript

pytestmark = pytest.mark.django_db(transaction=True)


def tool_turn(*calls: tuple[str, dict[str, Any], str]) -> Script:
    return Script(text=["Writing. "], tool_calls=[
        ToolCallScript(name=name, arguments=json.dumps(args), id=call_id, fragment_size=7)
        for name, args, call_id in calls
    ])


async def test_write_file_makes_versions_and_emits_file_updated(tenant_async, fake_openai, settings):
    settings.PROJECT_FILE_MAX_BYTES = 1000
    fake_openai.enqueue(tool_turn(("write_file", {"path": "./src/App.tsx", "content": "v1"}, "w1")))
    fake_openai.enqueue(tool_turn(
        ("write_file", {"path": "src/App.tsx", "content": "export default () => <p>v2</p>;\n"}, "w2"),
        ("write_file", {"path": "src/../../etc/passwd", "content": "root"}, "w3"),
        ("write_file", {"path": "/etc/passwd", "content": "root"}, "w4"),
        ("write_file", {"path": "src\\evil.txt", "content": "x"}, "w5"),
        ("write_file", {"path": "big.txt", "content": "x" * 1001}, "w6"),
        ("write_file", {"path": "bin.dat", "content": "\u0000PNG"}, "w7"),
        ("write_file", {"path": "src/App.tsx/inner.ts", "content": "x"}, "w8"),
    ))
    fake_openai.set_script(text_script(2))
    handle = await engine.start_run(await make_request(tenant_async, "build the app", model=FAKE_MODEL,
                                                       mode="build"))
    events = await collect(await engine.subscribe(handle.run_id))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    results = {e["id"]: e for e in events if e["type"] in ("tool.result", "tool.error")}
    assert results["w1"]["result"] == {"path": "src/App.tsx", "version": 1, "created": True}
    assert results["w2"]["result"] == {"path": "src/App.tsx", "version": 2, "created": False}
    errors = {call_id: results[call_id] for call_id in ("w3", "w4", "w5", "w6", "w7", "w8")}
    assert all(e["type"] == "tool.error" for e in errors.values())
    assert "leaves the project" in errors["w3"]["error"]
    assert "absolute" in errors["w4"]["error"]
    assert "forbidden character '\\\\'" in errors["w5"]["error"]
    assert "limit for a project file is 1000 bytes" in errors["w6"]["error"]
    assert "binary files are not supported" in errors["w7"]["error"]
    assert "which is a file" in errors["w8"]["error"]

    updates = [e for e in events if e["type"] == "file.updated"]
    assert [(u["path"], u["version"], u["source"]) for u in updates] == [("src/App.tsx", 1, "tool"),
                                                                          ("src/App.tsx", 2, "tool")]
    # Each file.updated comes right before its call's tool.result.
    for update, call_id in zip(updates, ("w1", "w2"), strict=True):
        assert events[update["seq"]]["type"] == "tool.result" and events[update["seq"]]["id"] == call_id

    file = await ProjectFile.objects.aget(project=tenant_async.project)
    assert (file.path, file.version, file.content) == ("src/App.tsx", 2, "export default () => <p>v2</p>;\n")
    history = [v async for v in ProjectFileVersion.objects.filter(file=file).order_by("version")]
    assert [(v.version, v.content, v.source) for v in history] == [
        (1, "v1", "tool"), (2, "export default () => <p>v2</p>;\n", "tool"),
    ]
    run = await Run.objects.aget(pk=handle.run_id)
    assert {v.run_id for v in history} == {run.pk}
    assert await ProjectFile.objects.acount() == 1
    # The model was told why each refused call failed, in its next turn.
    third_turn = fake_openai.requests[2].body["messages"]
    refusals = [m for m in third_turn if m["role"] == "tool" and "error" in m["content"]]
    assert len(refusals) == 6
