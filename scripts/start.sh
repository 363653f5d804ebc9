#!/bin/sh
# Starts Zoo KMS on its embedded defaults: SQLite in ./data, a SoftHSM2 token made in ./data on
# first run, http://127.0.0.1:8200. Installs what it needs first. Settings: see kms.example.yaml.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-deps.sh runtime
if [ ! -f dist/main.js ] || [ -n "$(find src -newer dist/main.js -name '*.ts' | head -n 1)" ]; then
  npm run --silent build
fi
exec node dist/main.js
