#!/usr/bin/env bash
# The UI tests drive Debian's Chromium through Playwright (tests/ui). Install it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-browser: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  exit 0
fi
echo "ensure-browser: installing chromium (Debian package)" >&2
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
