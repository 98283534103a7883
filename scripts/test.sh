#!/usr/bin/env bash
# One command: set up on a fresh Debian 12 machine (Dovecot and PostgreSQL included) and run the
# whole test suite plus the linter. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/ruff check .
exec .venv/bin/pytest "$@"
