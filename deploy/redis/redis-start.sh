#!/bin/sh
# Start Redis for fila: its users (ACL), its configuration, and (with high availability) the
# primary to follow. compose.yaml, deploy/stack.yaml, deploy/ha/compose.ha.yaml and the
# Kubernetes StatefulSet all run this file; arguments are passed on to redis-server.
#
# Users, one password each, from the environment (the ACL file lives in /tmp, mode 600):
#   default    the administrator (redis-cli in the container, the healthcheck): everything
#   web        the web: any key (the handout's /set, /push... write a student's keys)
#   worker     message workers: fila's keys (fila:*) and the queue lists (with `fila prove`'s), nothing else
#   rq         RQ workers: RQ's keys (rq:*) and the Fibonacci cache (fib:*)
#   dashboard  rq-dashboard: RQ's keys (only when REDIS_DASHBOARD_PASSWORD is set)
#   commander  Redis Commander: read commands only (only when REDIS_COMMANDER_PASSWORD is set)
# No user but default may run a dangerous command (CONFIG, ACL, KEYS, FLUSHALL, DEBUG...), use
# another database (SELECT, MOVE, SWAPDB) or flush or kill scripts and functions: CONFIG GET
# would read masterauth (the administrator's password), another database is out of sight of
# every tool, and SCRIPT FLUSH breaks every fila process's cached scripts.
#
# Settings (environment): REDIS_PASSWORD, REDIS_WEB_PASSWORD, REDIS_WORKER_PASSWORD,
# REDIS_RQ_PASSWORD (required), REDIS_DASHBOARD_PASSWORD, REDIS_COMMANDER_PASSWORD;
# QUEUES or QUEUE_NAME (fila: the lists the worker user may take from), REDIS_MAXMEMORY (800mb: Redis refuses writes past it instead of being killed
# at its container's 1 GiB), REDIS_DATA_DIR (/data), REDIS_APPENDFSYNC (everysec);
# high availability only: REDIS_ANNOUNCE_HOST, REDIS_REPLICA_OF, REDIS_SENTINELS, SENTINEL_PASSWORD.
set -eu
umask 077

: "${REDIS_PASSWORD:?}" "${REDIS_WEB_PASSWORD:?}" "${REDIS_WORKER_PASSWORD:?}" "${REDIS_RQ_PASSWORD:?}"
queues=""
for name in $(printf '%s' "${QUEUES:-${QUEUE_NAME:-fila}}" | tr ',' ' '); do queues="$queues ~$name"; done
# `fila prove` (refused unless ALLOW_EXPERIMENTS=1) runs on its own list, prove, beside the queues.
queues="$queues ~prove"
conf="${REDIS_CONF_DIR:-/tmp}"

# What no user but default may do, beyond the dangerous category.
forbidden="-@dangerous -select -move -swapdb -script|flush -script|kill -function"
# What every client library asks on connecting (INFO for the server's version, its own name).
hello="+info +client|setname +client|getname +client|id +client|info"

cat > "$conf/users.acl" <<ACL
user default on >$REDIS_PASSWORD ~* &* +@all
user web on >$REDIS_WEB_PASSWORD ~* &* +@all $forbidden $hello
user worker on >$REDIS_WORKER_PASSWORD ~fila:*$queues resetchannels +@all $forbidden $hello
user rq on >$REDIS_RQ_PASSWORD ~rq:* ~fib:* &rq:* +@all $forbidden $hello
ACL
[ -z "${REDIS_DASHBOARD_PASSWORD:-}" ] ||
  echo "user dashboard on >$REDIS_DASHBOARD_PASSWORD ~rq:* &rq:* +@all $forbidden $hello" >> "$conf/users.acl"
[ -z "${REDIS_COMMANDER_PASSWORD:-}" ] ||
  echo "user commander on >$REDIS_COMMANDER_PASSWORD ~* resetchannels -@all +@read +@connection $forbidden" \
    "+info +ping +client|setname +client|getname +dbsize +scan +type +ttl +pttl +memory|usage" >> "$conf/users.acl"

cat > "$conf/redis.conf" <<CONF
dir ${REDIS_DATA_DIR:-/data}
aclfile $conf/users.acl
appendonly yes
appendfsync ${REDIS_APPENDFSYNC:-everysec}
maxmemory ${REDIS_MAXMEMORY:-800mb}
maxmemory-policy noeviction
masterauth $REDIS_PASSWORD
# A replica that (re)joins gets its copy at once: the primary does not wait 5 s (the default) for
# others to join the same transfer. With REDIS_WAIT_REPLICAS=1 writes wait for that copy: of a
# 10 s failover, 5 s were this wait (make bench BENCH_ARGS=failover prints each failover's timeline).
repl-diskless-sync-delay 0
CONF

# High availability only (deploy/ha/compose.ha.yaml): a Redis that restarts asks the Sentinels
# which primary is current (the answer with the highest configuration epoch) and comes back as
# its replica, never as a second primary taking writes that its resync would then throw away.
[ -z "${REDIS_ANNOUNCE_HOST:-}" ] || echo "replica-announce-ip $REDIS_ANNOUNCE_HOST" >> "$conf/redis.conf"
primary="${REDIS_REPLICA_OF:-}"
best=-1
for sentinel in ${REDIS_SENTINELS:-}; do
  answer=$(REDISCLI_AUTH="${SENTINEL_PASSWORD:-}" redis-cli -h "$sentinel" -p 26379 --raw sentinel master fila 2>/dev/null |
    awk 'NR % 2 == 1 {key = $0; next} key == "ip" {ip = $0} key == "config-epoch" {epoch = $0} END {if (ip != "") print epoch, ip}') || true
  [ -n "$answer" ] || continue
  epoch=${answer%% *}
  if [ "$epoch" -gt "$best" ]; then best=$epoch; primary=${answer#* }; fi
done
[ "$primary" != "${REDIS_ANNOUNCE_HOST:-}" ] || primary=""
[ -z "$primary" ] || echo "replicaof $primary 6379" >> "$conf/redis.conf"

exec redis-server "$conf/redis.conf" "$@"
