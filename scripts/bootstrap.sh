#!/usr/bin/env bash
# Shared set-up for a fresh Debian 12 machine: system packages, a private virtualenv, pinned deps.
#   scripts/bootstrap.sh runtime   what `mailintake demo` / the service needs
#   scripts/bootstrap.sh test      plus Dovecot and PostgreSQL for the test suite
# Idempotent: re-running installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-runtime}

sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"

apt_install() {  # install Debian packages that are missing (as root, or with sudo)
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
}

# libarchive13 + unar read RAR/7z archives; libgl1 + libglib2.0-0 are what the OpenCV wheel links;
# fonts-noto-cjk lets rendered pages (OCR) and thumbnails show Chinese; python3-venv because Debian's python3
# refuses global pip (PEP 668). LibreOffice (legacy .doc/.wps/.et) is optional at run time: `check` says so.
apt_install python3-venv libarchive13 unar libgl1 libglib2.0-0 fonts-noto-cjk
if [ "$what" = test ]; then
  # keep the postgresql package from creating and starting a system cluster
  if ! dpkg -s postgresql >/dev/null 2>&1; then
    $sudo mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/no-main.conf >/dev/null
  fi
  apt_install dovecot-core dovecot-imapd postgresql openssl procps libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk chromium chromium-driver
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
