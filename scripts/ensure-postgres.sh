#!/bin/sh
# The PostgreSQL suite needs the machine's PostgreSQL on 127.0.0.1:5432; start it if it is down.
set -eu
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && exit 0
  sleep 1
done
echo "PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL suite cannot run" >&2
exit 1
