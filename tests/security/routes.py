"""The route table of the bad-input and security suites: one row per (verb, route) Blueprint serves.

Every suite under tests/security reads this table, and ``test_route_table`` fails when the URL
resolvers (Django's urlpatterns and config.routing's ``http_routes`` / ``websocket_routes``)
serve a (verb, route) without a row here, or with no row and no entry in ``PUBLIC``. Adding a
dialect = adding rows:

* ``pattern`` is the resolver's own pattern with a leading slash (``/api/chats/<str:chat_id>``);
  each ``<conv:name>`` is filled with the object ``PARAM_OBJECTS[name]`` names.
* ``body`` / ``query`` / ``frame`` are templates: a string ``"{chat}"`` anywhere in them is
  replaced with the chat's id (also ``{project}``, ``{run}``, ``{document}``, ``{key}``).
* ``kind``: ``rest`` (DRF JSON), ``stream`` (a Channels HTTP endpoint: JSON or SSE) or ``ws``.
* ``shape``: the error body's shape — ``rest`` / ``seed000`` ``{"error": {"code", "message"}}``,
  ``native`` ``{"error": "<code>", "message"}``, ``fastapi`` ``{"detail": …}``, ``openai``
  ``{"error": {"message", "type", "code"}}``.
* ``unauthenticated``: the status a missing/bad key gets (401; 403 for seed 002/003).
* ``scoped``: the row reaches another workspace's objects through its ids (the cross-workspace
  matrix runs it with tenant B's key on tenant A's objects).
* ``starts_run``: a valid request would call the provider (the owner check skips it).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Which object fills a path parameter, by the parameter's name in the pattern.
PARAM_OBJECTS: dict[str, str] = {
    "projectId": "project", "project_id": "project",
    "chatId": "chat", "chat_id": "chat",
    "runId": "run", "run_id": "run",
    "keyId": "key",
    "document_id": "document",
    "version": "version",
    "name": "doc_type",
    "planId": "plan",
    "path": "path",
    "attachmentId": "attachment",
    "model": "model_name",
}


@dataclass(frozen=True)
class RouteSpec:
    method: str  # GET POST PUT PATCH DELETE, or WS
    pattern: str
    kind: str = "rest"
    body: Any = None
    query: str = ""
    frame: Any = None  # WS: the frame sent after the handshake (None: the handshake is the test)
    shape: str = "rest"
    unauthenticated: int = 401
    scoped: bool = True
    starts_run: bool = False
    destructive: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    # A path parameter filled with another object (e.g. ``{"project_id": "own_project"}``: the
    # caller's own project, so that the foreign id in the body/frame is what gets tested).
    path_ids: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        suffix = f" {json.dumps(self.frame)[:40]}" if self.frame is not None else ""
        own = " (own path)" if self.path_ids else ""
        return f"{self.method} {self.pattern}{'?' + self.query if self.query else ''}{suffix}{own}"

    def url(self, ids: dict[str, str]) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            return str(ids[self.path_ids.get(name, PARAM_OBJECTS[name])])

        path = re.sub(r"<(?:\w+:)?(\w+)>", fill, self.pattern)
        return path + ("?" + fill_template(self.query, ids) if self.query else "")

    def filled_body(self, ids: dict[str, str]) -> Any:
        return fill_template(self.body, ids)

    def filled_frame(self, ids: dict[str, str]) -> Any:
        return fill_template(self.frame, ids)


def fill_template(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, object_id in ids.items():
            value = value.replace("{" + name + "}", str(object_id))
        return value
    if isinstance(value, dict):
        return {key: fill_template(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_template(item, ids) for item in value]
    return value


def _rest(method: str, pattern: str, body: Any = None, **kw: Any) -> RouteSpec:
    return RouteSpec(method, pattern, "rest", body, **kw)


MSG = "Design a library"
OWN_PROJECT = {"project_id": "own_project"}
ROUTES: list[RouteSpec] = [
    # --- core ------------------------------------------------------------------------------------
    _rest("GET", "/api/api-keys", scoped=False),
    _rest("POST", "/api/api-keys", {"name": "probe"}, scoped=False),
    _rest("DELETE", "/api/api-keys/<str:keyId>", destructive=True),
    # --- projects + chats -------------------------------------------------------------------------
    _rest("GET", "/api/projects", scoped=False),
    _rest("POST", "/api/projects", {"name": "probe"}, scoped=False),
    _rest("GET", "/api/projects/<str:projectId>"),
    _rest("PATCH", "/api/projects/<str:projectId>", {"name": "renamed"}),
    _rest("DELETE", "/api/projects/<str:projectId>", destructive=True),
    _rest("GET", "/api/projects/<str:projectId>/chats"),
    _rest("POST", "/api/projects/<str:projectId>/chats", {"mode": "chat", "title": "probe"}),
    _rest("GET", "/api/chats/<str:chatId>"),
    _rest("PATCH", "/api/chats/<str:chatId>", {"title": "renamed"}),
    _rest("DELETE", "/api/chats/<str:chatId>", destructive=True),
    _rest("GET", "/api/chat/<str:projectId>/messages", query="chatId={chat}"),
    _rest("GET", "/api/runs/<str:runId>"),
    _rest("GET", "/api/runs/<str:runId>/events"),
    _rest("GET", "/api/models", scoped=False),
    # --- domain model -----------------------------------------------------------------------------
    _rest("GET", "/api/chats/<str:chat_id>/domain-model"),
    _rest("PUT", "/api/chats/<str:chat_id>/domain-model", {"entities": {}, "relationships": []}),
    _rest("GET", "/api/chats/<str:chat_id>/domain-model/versions"),
    _rest("GET", "/api/chats/<str:chat_id>/domain-model/versions/<int:version>"),
    _rest("GET", "/api/chats/<str:chat_id>/domain-model/diff", query="from=1&to=1"),
    _rest("GET", "/api/chats/<str:chat_id>/domain-model/export", query="format=jsonschema"),
    # --- knowledge --------------------------------------------------------------------------------
    _rest("GET", "/api/projects/<str:project_id>/documents"),
    _rest("POST", "/api/projects/<str:project_id>/documents", {"path": "docs/probe.md", "content": "# Probe"}),
    _rest("GET", "/api/projects/<str:project_id>/documents/<str:document_id>"),
    _rest("DELETE", "/api/projects/<str:project_id>/documents/<str:document_id>", destructive=True),
    _rest("GET", "/api/projects/<str:project_id>/search", query="q=library"),
    _rest("GET", "/api/doc-types", scoped=False),
    _rest("GET", "/api/doc-types/<str:name>", scoped=False),
    # --- seed 001 (native) ------------------------------------------------------------------------
    RouteSpec("POST", "/api/chat/<str:project_id>/messages", "stream", {"chatId": "{chat}", "text": MSG},
              shape="native", starts_run=True),
    RouteSpec("POST", "/api/chat/<str:project_id>/messages", "stream", {"chatId": "{chat}", "text": MSG},
              shape="native", starts_run=True, path_ids=OWN_PROJECT),
    RouteSpec("POST", "/api/chat/<str:project_id>/stop", "stream", {"chatId": "{chat}"}, shape="native"),
    RouteSpec("POST", "/api/chat/<str:project_id>/stop", "stream", {"chatId": "{chat}"}, shape="native",
              path_ids=OWN_PROJECT),
    RouteSpec("GET", "/api/runs/<str:run_id>/stream", "stream", shape="native"),
    RouteSpec("WS", "/api/chat/<str:project_id>/ws", "ws", shape="native"),
    RouteSpec("WS", "/api/chat/<str:project_id>/ws", "ws", frame={"type": "stop", "chatId": "{chat}"},
              shape="native", path_ids=OWN_PROJECT),
    RouteSpec("WS", "/api/chat/<str:project_id>/ws", "ws", frame={"type": "resume", "runId": "{run}"},
              shape="native", path_ids=OWN_PROJECT),
    RouteSpec("WS", "/api/chat/<str:project_id>/ws", "ws",
              frame={"type": "message", "chatId": "{chat}", "text": MSG}, shape="native", starts_run=True,
              path_ids=OWN_PROJECT),
    # --- seeds 000 + 004 --------------------------------------------------------------------------
    RouteSpec("POST", "/api/chat", "stream", {"chatId": "{chat}", "messages": [{"role": "user", "content": MSG}]},
              shape="seed000", starts_run=True),
    RouteSpec("POST", "/api/chat", "stream",
              {"sessionId": "{chat}", "stream": False, "messages": [{"role": "user", "content": MSG}]},
              shape="seed000", starts_run=True),
    RouteSpec("POST", "/api/chat/stream", "stream",
              {"sessionId": "{chat}", "messages": [{"role": "user", "content": MSG}]}, shape="seed000",
              starts_run=True),
    RouteSpec("POST", "/api/chat/reason", "stream",
              {"sessionId": "{chat}", "messages": [{"role": "user", "content": MSG}]}, shape="seed000",
              starts_run=True),
    RouteSpec("POST", "/api/chat/stop", "stream", {"sessionId": "{chat}"}, shape="seed000"),
    RouteSpec("GET", "/api/chat/<str:chat_id>/stream", "stream", shape="seed000"),
    RouteSpec("WS", "/api/chat/ws", "ws", frame={"type": "stop", "chatId": "{chat}"}, shape="seed000"),
    RouteSpec("WS", "/api/chat/ws", "ws", frame={"type": "resume", "chatId": "{chat}"}, shape="seed000"),
    RouteSpec("WS", "/api/chat/ws", "ws", frame={"type": "message", "chatId": "{chat}", "content": MSG},
              shape="seed000", starts_run=True),
    # --- seeds 002/003 (document generation) ------------------------------------------------------
    # project_id / conversation_id are the client's own ids, namespaced per workspace: another
    # workspace's id names a different (new) project of the caller's, so these are not "scoped".
    RouteSpec("POST", "/api/v1/chat/stream", "stream",
              {"conversation_id": "{chat}", "project_id": "{project}", "message": MSG}, shape="fastapi",
              unauthenticated=403, scoped=False, starts_run=True),
    RouteSpec("POST", "/api/v1/chat/generate", "stream", {"message": MSG, "doc_type": "PROJECT_MANIFESTO"},
              shape="fastapi", unauthenticated=403, scoped=False, starts_run=True),
    RouteSpec("POST", "/api/v1/chat/message", "stream", {"message": MSG}, shape="fastapi", unauthenticated=403,
              scoped=False),
    # --- OpenAI-compatible ------------------------------------------------------------------------
    RouteSpec("POST", "/v1/chat/completions", "stream",
              {"model": "offline", "messages": [{"role": "user", "content": MSG}]}, shape="openai",
              starts_run=True, headers={"X-Project-Id": "{project}"}),
    RouteSpec("GET", "/v1/models", "stream", shape="openai", scoped=False),
    RouteSpec("GET", "/v1/models/<path:model>", "stream", shape="openai", scoped=False),
    # --- Vercel AI SDK ------------------------------------------------------------------------------
    RouteSpec("POST", "/api/ai-sdk/chat", "stream",
              {"id": "probe", "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": MSG}]}]},
              starts_run=True, headers={"X-Project-Id": "{project}"}),
    # useChat's ids are the client's own, namespaced per workspace (resume of an unknown one is 204).
    RouteSpec("GET", "/api/ai-sdk/chat/<str:chat_id>/stream", "stream", scoped=False),
    RouteSpec("POST", "/api/ai-sdk/chat/<str:chat_id>/stop", "stream", scoped=False),
    # --- plans and modes ----------------------------------------------------------------------------
    RouteSpec("POST", "/api/plan/<str:project_id>", "stream", {"chatId": "{chat}", "text": MSG}, shape="native",
              starts_run=True),
    RouteSpec("POST", "/api/plan/<str:project_id>/<str:chat_id>/run", "stream", {}, shape="native",
              starts_run=True),
    _rest("GET", "/api/plan/<str:projectId>/<str:chatId>"),
    _rest("GET", "/api/projects/<str:projectId>/plans"),
    _rest("GET", "/api/plans/<str:planId>"),
    _rest("PATCH", "/api/plans/<str:planId>", {"steps": [{"title": "Planted", "risk": "low"}]}),
    _rest("DELETE", "/api/plans/<str:planId>", destructive=True),
    _rest("GET", "/api/projects/<str:projectId>/modes"),
    _rest("POST", "/api/projects/<str:projectId>/modes", {"name": "planted", "allowedTools": []}),
    _rest("GET", "/api/projects/<str:projectId>/modes/<str:name>", path_ids={"name": "mode"}),
    _rest("PATCH", "/api/projects/<str:projectId>/modes/<str:name>", {"systemPrompt": "hijacked"},
          path_ids={"name": "mode"}),
    _rest("DELETE", "/api/projects/<str:projectId>/modes/<str:name>", destructive=True, path_ids={"name": "mode"}),
    # --- project files, direct-save, attachments ----------------------------------------------------
    _rest("GET", "/api/projects/<str:projectId>/files"),
    _rest("GET", "/api/projects/<str:projectId>/files/<path:path>"),
    _rest("PUT", "/api/projects/<str:projectId>/files/<path:path>",
          {"content": "export const App = () => <h1>Planted</h1>;\n"}),
    _rest("DELETE", "/api/projects/<str:projectId>/files/<path:path>", destructive=True),
    _rest("GET", "/api/projects/<str:projectId>/file-versions/<path:path>"),
    _rest("POST", "/api/direct-save/<str:projectId>",
          {"filePath": "{path}", "patches": [{"selector": "h1", "property": "text", "value": "planted"}]}),
    _rest("GET", "/api/attachments/<str:attachmentId>"),
]

# The browser UI's pages: session-only HTML (API keys are not accepted there), tested in real
# Chromium by tests/ui (login, another workspace's page is a 404, CSRF, CSP); not API routes.
BROWSER_PAGES: set[str] = {
    "/", "/login/", "/logout/", "/projects/<str:project_id>/", "/projects/<str:project_id>/chats/<str:chat_id>/",
    "/^static/(?P<path>.*)$",
}

# Served without credentials on purpose (or guarded by Django's own login, the admin).
PUBLIC: set[tuple[str, str]] = {
    ("GET", "/api/health"),
    ("GET", "/api/schema/"),
    ("GET", "/api/docs/"),
    ("GET", "/api/schema/dsl.json"),  # the DSL's JSON Schema: static, the same for everyone
}
# Whole prefixes outside this table: the Django admin (staff login, CSRF, its own tests).
EXCLUDED_PREFIXES: tuple[str, ...] = ("/admin/",)

# The streaming endpoints whose bodies the fuzzer attacks: (path, a valid body, shape).
# ``{project}`` is the caller's own project. The lead adds a row per new dialect.
STREAM_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("/api/chat/{project}/messages", {"text": MSG}, "native"),
    ("/api/chat", {"messages": [{"role": "user", "content": MSG}]}, "seed000"),
    ("/api/chat/stream", {"messages": [{"role": "user", "content": MSG}]}, "seed000"),
    ("/api/chat/reason", {"messages": [{"role": "user", "content": MSG}]}, "seed000"),
    ("/api/chat/{project}/stop", {"chatId": "{chat}"}, "native"),
    ("/api/chat/stop", {"sessionId": "{chat}"}, "seed000"),
    ("/api/v1/chat/stream", {"conversation_id": "{chat}", "project_id": "{project}", "message": MSG}, "fastapi"),
    ("/api/v1/chat/generate", {"message": MSG, "doc_type": "PROJECT_MANIFESTO"}, "fastapi"),
    ("/v1/chat/completions", {"model": "offline", "messages": [{"role": "user", "content": MSG}]}, "openai"),
    ("/api/ai-sdk/chat", {"id": "fuzz", "messages": [{"id": "u1", "role": "user",
                                                      "parts": [{"type": "text", "text": MSG}]}]}, "rest"),
    ("/api/plan/{project}", {"chatId": "{chat}", "text": MSG}, "native"),
]
# The WebSocket endpoints whose frames the fuzzer attacks: (path, a valid message frame, shape).
WS_FRAMES: list[tuple[str, dict[str, Any], str]] = [
    ("/api/chat/{project}/ws", {"type": "message", "text": MSG}, "native"),
    ("/api/chat/ws", {"type": "message", "content": MSG}, "seed000"),
]


def error_code(shape: str, body: Any) -> str | None:
    """The machine code of an error body of the given shape (None: not that shape)."""
    if not isinstance(body, dict):
        return None
    if shape in ("rest", "seed000", "openai"):
        error = body.get("error")
        return error.get("code") if isinstance(error, dict) and isinstance(error.get("message"), str) else None
    if shape == "native":
        return body["error"] if isinstance(body.get("error"), str) and isinstance(body.get("message"), str) else None
    if shape == "fastapi":
        return "detail" if "detail" in body else None
    raise ValueError(f"unknown error shape {shape}")


def ws_error_code(shape: str, frame: Any) -> str | None:
    """The code of a WebSocket error frame (native: a canonical error; seed 000: ``content.code``)."""
    if not isinstance(frame, dict) or frame.get("type") != "error":
        return None
    if shape == "native":
        return frame.get("error") if isinstance(frame.get("error"), str) else None
    content = frame.get("content")
    return content.get("code") if isinstance(content, dict) else None
