#!/usr/bin/env bash
# Render one receipt and one deficiency reply from `mailintake demo` to PNG for the README
# (docs/img/reply-receipt.png, docs/img/reply-deficiency.png). Run on purpose, not part of the tests:
#     bash scripts/reply_pictures.sh
# Installs Chromium and a CJK font (Debian 12) when missing; the real work is in reply_pictures.py.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -qi 'noto.*cjk' || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
exec .venv/bin/python scripts/reply_pictures.py "$@"
