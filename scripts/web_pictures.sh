#!/usr/bin/env bash
# Screenshots of the organisers' web view for the README (docs/img/web-overview.png, docs/img/web-unit.png),
# from `mailintake demo`, in headless Chromium. Run on purpose, not part of the tests:
#     bash scripts/web_pictures.sh
# Installs Chromium, its driver and a CJK font (Debian 12) when missing; the real work is in web_pictures.py.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
fc-list :lang=zh 2>/dev/null | grep -qi 'noto.*cjk' || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
exec .venv/bin/python scripts/web_pictures.py "$@"
