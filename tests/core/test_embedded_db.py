"""The embedded PostgreSQL: two processes starting it at once share one healthy server."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
from config.embedded_db import ensure_running
import psycopg
params = ensure_running(sys.argv[1], database="concurrent")
with psycopg.connect(host=params["host"], port=params["port"], user=params["user"], dbname=params["name"]) as conn:
    version = conn.execute("select default_version from pg_available_extensions where name = 'vector'").fetchone()[0]
print(json.dumps({**params, "vector": version}))
"""


def test_two_processes_starting_the_same_data_folder_at_once_share_one_server():
    from config.embedded_db import stop

    with tempfile.TemporaryDirectory(prefix="bp-embedded-") as tmp:
        pgdata = Path(tmp) / "pgdata"
        procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(pgdata)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        try:
            outputs = [p.communicate(timeout=120) for p in procs]
            assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
            first, second = (json.loads(out.strip().splitlines()[-1]) for out, _ in outputs)
            assert first == second  # the same socket: one server, not two on one folder
            assert first["vector"]
            # A third start reuses the running server without initdb.
            again = subprocess.run([sys.executable, "-c", SCRIPT, str(pgdata)], cwd=ROOT, capture_output=True,
                                   text=True, timeout=120, check=True)
            assert json.loads(again.stdout.strip().splitlines()[-1]) == first
        finally:
            stop(pgdata)
