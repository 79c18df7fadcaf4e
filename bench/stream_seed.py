"""Creates the streaming benchmark's tenant: ``python bench/stream_seed.py CHATS``.

An API key of workspace ``bench-stream``, a new project, and CHATS empty chats (one per
stream, so every run's prompt has the same size). Prints one JSON object as the last line.
Run with the benchmark's environment (``bench.stream_procs.base_env``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import django

    django.setup()
    from apps.chats.models import Chat
    from apps.core.services import api_key_create, workspace_get_or_create
    from apps.projects.services import project_create

    count = int(sys.argv[1])
    workspace = workspace_get_or_create(name="bench-stream", owner_username="bench-stream-owner")
    key = api_key_create(workspace=workspace, name="bench-stream")
    project = project_create(workspace=workspace, name="bench-stream")
    chats = Chat.objects.bulk_create(
        [Chat(project=project, mode="chat", title=f"bench {i}") for i in range(count)], batch_size=2000)
    print(json.dumps({"apiKey": key.raw_key, "projectId": str(project.pk), "chatIds": [str(c.pk) for c in chats]}))


if __name__ == "__main__":
    main()
