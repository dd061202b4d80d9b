#!/bin/sh
# make test: every test, the container tests beside the rest.
#
#   scripts/test.sh PYTHON [PYTEST ARGS...]
#
# The container tests mostly wait on the Docker engine (building, starting, failing over), so they
# run in a second pytest at the same time as the others: the whole run stays well under 20 minutes
# on two cores. Their output is kept in var/container-tests.log and printed at the end. Given
# pytest arguments (a selection), or FILA_CONTAINER_TESTS=skip, one pytest runs them as asked.
set -u
python="$1"
shift
if [ "$#" -gt 0 ] || [ "${FILA_CONTAINER_TESTS:-}" = skip ]; then
    exec "$python" -m pytest "$@"
fi
mkdir -p var
log=var/container-tests.log
"$python" -m pytest -m containers -p no:cacheprovider > "$log" 2>&1 &
containers=$!
"$python" -m pytest -m "not containers"
others=$?
wait "$containers"
engine=$?
echo "================ the container tests ($log) ================"
cat "$log"
if [ "$others" -ne 0 ] || [ "$engine" -ne 0 ]; then
    echo "make test: FAILED (the others: exit $others; the container tests: exit $engine)"
    exit 1
fi
