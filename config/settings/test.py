"""Settings for pytest: fast hashing, no real network, offline provider by default.

Provider keys are never taken from the developer's environment here; a test that
wants a provider (a fake upstream on 127.0.0.1) sets them itself, and servers the
tests start in subprocesses receive them as TEST_* variables.
"""
from config.env import env
from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OFFLINE_TOKEN_DELAY_MS = env.int("TEST_OFFLINE_TOKEN_DELAY_MS", default=0)
OPENAI_API_KEY = env("TEST_OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("TEST_OPENAI_BASE_URL", default="")
ANTHROPIC_API_KEY = env("TEST_ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("TEST_ANTHROPIC_BASE_URL", default="")
OPENROUTER_API_KEY = ""
# A background ingestion thread cannot see rows of a test transaction that never commits.
KNOWLEDGE_INGEST_MODE = "inline"
# Tests revoke keys behind the service's back; tests/core/test_auth.py covers the cache itself.
API_KEY_CACHE_SECONDS = 0.0
