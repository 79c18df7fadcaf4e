# Blueprint: one image for every ASGI worker. Configure with environment variables
# (see the README's configuration table); production needs DATABASE_URL and REDIS_URL.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq5 nodejs npm \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
# torch is pinned to the CPU build; the index keeps pip from pulling CUDA wheels.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY . .
# The UI's front-end libraries from npm (package-lock.json), copied into static/vendor/.
RUN npm ci --no-audit --no-fund --loglevel=error && python scripts/vendor_static.py && rm -rf node_modules
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:///tmp/unused.db \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 blueprint && chown -R blueprint /app
USER blueprint

EXPOSE 8000
# Each container is one ASGI worker; scale with `docker compose up --scale web=N`.
CMD ["sh", "-c", "python manage.py migrate --noinput && daphne -b 0.0.0.0 -p 8000 config.asgi:application"]
