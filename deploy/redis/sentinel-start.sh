#!/bin/sh
# Start a Sentinel for deploy/ha/compose.ha.yaml. Its configuration is written once into its
# volume: Sentinel rewrites it as it learns who the primary is, and a restarted Sentinel must
# start from what it learned, not from `redis`.
# Settings (environment): SENTINEL_PASSWORD, REDIS_PASSWORD, SENTINEL_ANNOUNCE_HOST (required).
set -eu
umask 077
: "${SENTINEL_PASSWORD:?}" "${REDIS_PASSWORD:?}" "${SENTINEL_ANNOUNCE_HOST:?}"
[ -f /data/sentinel.conf ] || cat > /data/sentinel.conf <<CONF
port 26379
dir /data
requirepass $SENTINEL_PASSWORD
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $SENTINEL_ANNOUNCE_HOST
sentinel monitor fila redis 6379 2
sentinel auth-pass fila $REDIS_PASSWORD
sentinel down-after-milliseconds fila 2000
sentinel failover-timeout fila 10000
sentinel parallel-syncs fila 1
CONF
exec redis-server /data/sentinel.conf --sentinel
