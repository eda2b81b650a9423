#!/usr/bin/env bash
# promtool (Debian's `prometheus`) validates monitoring/ in the tests; without it those tests skip.
set -uo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "promtool is missing (sudo apt-get install prometheus); the monitoring tests will skip" >&2
  exit 0
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
  || echo "could not install prometheus; the monitoring tests will skip" >&2
exit 0
