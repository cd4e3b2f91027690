#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1 for the second test run; start them
# with the machine's own commands when they are installed but stopped. Exit 1 (so `make
# test` and CI fail) when either cannot be reached.
set -u
PG_URL=${IDP_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
fi
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi
ok=0
if ! pg_up || ! psql "$PG_URL" -tAc "select 1" >/dev/null 2>&1; then
  echo "error: PostgreSQL is not reachable at $PG_URL" >&2; ok=1
fi
if ! redis_up; then
  echo "error: Redis is not reachable at $REDIS_HOST:$REDIS_PORT" >&2; ok=1
fi
exit $ok
