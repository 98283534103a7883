#!/usr/bin/env bash
# One command: set up on a fresh Debian 12 machine and run the demo (a generated sample mailbox,
# SQLite, replies written to files). Extra arguments go to `mailintake demo` (e.g. --dir /tmp/x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
exec .venv/bin/mailintake demo "$@"
