#!/usr/bin/env bash
# Start a local Redis on 127.0.0.1:6379 when none answers (installs it when missing and root).
set -euo pipefail
ping_redis() {
  python3 - <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", 6379), timeout=1)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}
if ping_redis; then exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null
  else
    echo "redis-server is not installed; Redis tests will be skipped" >&2
    exit 0
  fi
fi
mkdir -p /tmp/blueprint-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/blueprint-redis --logfile /tmp/blueprint-redis/redis.log
for _ in $(seq 1 50); do ping_redis && exit 0; sleep 0.1; done
echo "redis did not come up" >&2
exit 1
