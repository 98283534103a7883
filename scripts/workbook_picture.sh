#!/usr/bin/env bash
# Render the daily workbook's first sheet (总览) from `mailintake demo` to PNG for the README
# (docs/img/workbook-overview.png). Run on purpose, not part of the tests:
#     bash scripts/workbook_picture.sh
# The workbook is the one the organisers read the morning after the demo's last mail (or after the deadline,
# whichever is later); LibreOffice prints it to PDF, pdftoppm renders page 1 at 80 dpi.
# Installs LibreOffice Calc, poppler-utils and a CJK font (Debian 12) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
fc-list :lang=zh 2>/dev/null | grep -qi 'noto.*cjk' || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/mailintake demo --dir "$work/demo" >"$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; exit 1; }
.venv/bin/python - "$work/demo/mailintake.toml" "$work/日报.xlsx" <<'EOF'
import sys
from pathlib import Path

from sqlalchemy import func, select

from mailintake.ingest import config
from mailintake.ingest.context import Context
from mailintake.reports.workbook import write_workbook
from mailintake.store.models import Message

with Context.open(config.load(sys.argv[1])) as ctx, ctx.db.session() as s:
    campaign = ctx.config.campaign
    last = s.scalar(select(func.max(Message.internaldate)))
    day = max(last.astimezone(campaign.tz).date() if last else campaign.deadline.date(),
              campaign.deadline.astimezone(campaign.tz).date())
    write_workbook(s, ctx.scope, day, Path(sys.argv[2]))
    print(f"workbook as of {day}: {sys.argv[2]}")
EOF
soffice --headless "-env:UserInstallation=file://$work/profile" --convert-to pdf --outdir "$work" "$work/日报.xlsx" \
    >/dev/null 2>&1
mkdir -p docs/img
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/日报.pdf" "$work/overview"
cp "$work/overview.png" docs/img/workbook-overview.png
size=$(stat -c %s docs/img/workbook-overview.png)
echo "docs/img/workbook-overview.png: $size bytes"
[ "$size" -lt 256000 ] || { echo "error: the picture is over 250 KB" >&2; exit 1; }
