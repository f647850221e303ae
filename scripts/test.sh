#!/usr/bin/env bash
# Set up and run every test: a virtual environment with the dev requirements, Debian's Chromium
# for the browser tests (installed with apt-get when missing and we are root), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "color emoji"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium (and an emoji font) for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  else
    echo "No /usr/bin/chromium and no root: the browser tests will be skipped." >&2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements-dev.txt
export GRADIO_ANALYTICS_ENABLED=False
# Two workers (pytest-xdist, in the dev extra), one test file each at a time, the longest first
# (tests/conftest.py's order). `bash scripts/test.sh -n 0` runs everything in one process.
exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
