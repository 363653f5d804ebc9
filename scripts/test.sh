#!/bin/sh
# The whole test suite: type check, lint, format check, then the three vitest projects: unit
# (crypto, providers, config), the service suite on SQLite, and the same suite on PostgreSQL.
# Fails if any project ran no test or any test was skipped. Extra arguments go to vitest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-deps.sh test
sh scripts/ensure-postgres.sh
npx tsc -p tsconfig.json --noEmit
npx eslint --max-warnings 0 .
npx prettier --check . >/dev/null 2>&1 || { npx prettier --check .; exit 1; }
npm run --silent build
mkdir -p test-artifacts
status=0
for project in unit sqlite postgres; do
  echo "== vitest project: $project"
  npx vitest run --project "$project" --outputFile.json="test-artifacts/vitest-$project.json" "$@" || status=1
done
node scripts/test-report.mjs test-artifacts/vitest-unit.json test-artifacts/vitest-sqlite.json test-artifacts/vitest-postgres.json || status=1
exit $status
