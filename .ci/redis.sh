#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH for the Redis integration tests (test/replay/redis*.test.ts).
# Installs it from Debian when missing; starts nothing: each test file starts and stops its own private
# server on a free loopback port with persistence off (test/support/redis-server.ts).
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "redis-server is missing and installing it needs root (apt-get install -y redis-server)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends redis-server
echo "redis-server installed: $(redis-server --version)"
