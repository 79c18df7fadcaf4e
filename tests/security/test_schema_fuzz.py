"""Schemathesis over /api/schema/ against a real daphne worker, and secrets kept out of its logs.

Every operation of the OpenAPI schema, positive and negative data, authenticated with a
tenant's key (path ids: the tenant's own objects, so requests get past the 404s): zero 5xx,
zero hangs. ``BLUEPRINT_FUZZ_FULL=1`` runs 200 examples per operation and mode instead of 6.

The same worker runs with LOG_LEVEL=DEBUG and a provider key: afterwards neither the tenant's
raw key, nor a key created over the API, nor the provider key appears in any log line or any
response body or header (except the one creation response that shows a new key once).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.fakes.openai_server import FakeOpenAI
from tests.security.conftest import build_world
from tests.security.routes import PARAM_OBJECTS
from tests.workers import Worker, spawn_worker, stop_workers

pytestmark = pytest.mark.django_db(transaction=True)

FULL = os.environ.get("BLUEPRINT_FUZZ_FULL") == "1"
EXAMPLES = 200 if FULL else 6
PROVIDER_KEY = "sk-provider-" + "S3cr3t" * 6


def _wait_healthy(worker: Worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"daphne exited: {worker.log_tail()}")
        try:
            if requests.get(f"{worker.url}/api/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)  # polling until the server listens, with a deadline
    raise TimeoutError("daphne did not become healthy")


@pytest.fixture
def fake_provider() -> Any:
    fake = FakeOpenAI(api_key=PROVIDER_KEY)
    fake.start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def debug_worker(transactional_db: Any, tmp_path: Path, fake_provider: FakeOpenAI) -> Any:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "EMBEDDED_PG_DATABASE": django_settings.DATABASES["default"]["NAME"], "LOG_LEVEL": "DEBUG",
           "TEST_OPENAI_API_KEY": PROVIDER_KEY, "TEST_OPENAI_BASE_URL": fake_provider.base_url,
           "RATE_LIMIT_PER_MINUTE": "100000"}
    env.pop("DATABASE_URL", None)
    worker = spawn_worker("schemathesis", env, log=tmp_path / "daphne.log")
    try:
        _wait_healthy(worker)
        yield worker
    finally:
        stop_workers([worker])


def test_schemathesis_finds_no_5xx_and_no_hang_and_no_secret_leaks(debug_worker, caplog, fake_provider):
    caplog.set_level("DEBUG")
    world = build_world()
    key = world.owner.raw_key
    session = requests.Session()
    auth = {"X-API-Key": key}
    schema_doc = session.get(f"{debug_worker.url}/api/schema/?format=json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(schema_doc)
    ids = {**world.ids}
    seen: list[requests.Response] = []
    failures: list[str] = []
    operations = 0
    examples = 0

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def fuzz_one(strategy: Any, data: Any) -> None:
        nonlocal examples
        case = data.draw(strategy)
        examples += 1
        label = f"{case.method} {case.formatted_path}"
        try:
            response = case.call(base_url=debug_worker.url, session=session, headers=auth, timeout=15)
        except requests.Timeout:
            failures.append(f"{label}: no answer within 15 s")
            return
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            return  # the client refused to send it (a header or URL no HTTP client can carry)
        seen.append(response)
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} {response.text[:300]} "
                            f"body={json.dumps(case.body, default=str)[:300]} query={case.query}")

    def fuzz(strategy: Any) -> None:
        fuzz_one(strategy)  # type: ignore[call-arg]

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = [p.name for p in operation.path_parameters] if operation.path_parameters else []
        fixed = {name: ids[PARAM_OBJECTS[name]] for name in names if name in PARAM_OBJECTS}
        if operation.method.upper() == "DELETE":
            fixed = {}  # generated ids: deleting the tenant's own objects would empty the rest of the run
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation.as_strategy(mode, path_parameters=fixed or None))
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no parameters, no body)

    # A streamed answer through the provider, and a key created over the API, for the log check.
    streamed = session.post(f"{debug_worker.url}/api/chat/{world.ids['project']}/messages", headers=auth,
                            json={"text": "Hello", "model": "gpt-4o"}, timeout=30)
    assert streamed.status_code == 200 and "session.task_complete" in streamed.text
    assert len(fake_provider.requests) >= 1
    created = session.post(f"{debug_worker.url}/api/api-keys", headers=auth, json={"name": "ci"}, timeout=10)
    assert created.status_code == 201
    new_key = created.json()["key"]
    listed = session.get(f"{debug_worker.url}/api/api-keys", headers=auth, timeout=10)
    seen.append(listed)
    assert new_key[:11] in listed.text and new_key not in listed.text
    bad = session.get(f"{debug_worker.url}/api/projects", headers={"X-API-Key": key + "x"}, timeout=10)
    seen.append(bad)

    assert not failures, f"{len(failures)} failures in {examples} examples:\n" + "\n".join(failures[:40])
    assert operations >= 25 and examples >= operations * 2

    stop_workers([debug_worker])  # flush its log
    log = debug_worker.log.read_text(errors="replace") if debug_worker.log else ""
    assert "GET /api/" in log or "HTTP" in log or log.strip(), "the worker's log is empty: nothing was checked"
    secrets = {"tenant key": key, "created key": new_key, "provider key": PROVIDER_KEY}
    for name, secret in secrets.items():
        assert secret not in log, f"{name} in the daphne log"
        assert secret not in caplog.text, f"{name} in the test process's log"
        for response in seen:
            assert secret not in response.text, f"{name} in a response to {response.request.method} {response.url}"
            assert secret not in json.dumps(dict(response.headers)), f"{name} in headers of {response.url}"
    print(f"schemathesis: {operations} operations, {examples} examples, 0 5xx")
