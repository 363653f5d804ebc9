#!/bin/sh
# Installs what Zoo KMS needs on a fresh Debian machine: SoftHSM2 (the embedded key provider),
# and for tests also opensc (pkcs11-tool) and age (interop checks). Then the npm packages, whose
# native addons (pkcs11js, better-sqlite3, our BLS, ML-KEM and AES-GCM addons) build from source, offline.
# Usage: ensure-deps.sh [runtime|test]
set -eu
cd "$(dirname "$0")/.."
want=${1:-runtime}

missing=""
[ -f /usr/lib/softhsm/libsofthsm2.so ] || missing="$missing softhsm2"
if [ "$want" = test ]; then
  command -v pkcs11-tool >/dev/null 2>&1 || missing="$missing opensc"
  command -v age >/dev/null 2>&1 || missing="$missing age"
  [ -x /usr/bin/chromium ] || missing="$missing chromium" # the console browser test
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages:$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "missing Debian packages:$missing (run: sudo apt-get install -y$missing)" >&2
    exit 1
  fi
fi

stamp=node_modules/.zoo-kms-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] ||
  [ ! -f native/bls/build/Release/zoo_bls.node ] || [ ! -f native/mlkem/build/Release/zoo_mlkem.node ] ||
  [ ! -f native/aead/build/Release/zoo_aead.node ]; then
  echo "installing npm packages (native addons build from source)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
