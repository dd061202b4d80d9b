#!/bin/sh
# Browser tests drive Debian's chromium; install it when it is missing (root with apt-get only).
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests ..."
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null
    command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "chromium is needed for the browser tests: apt-get install chromium" >&2
exit 1
