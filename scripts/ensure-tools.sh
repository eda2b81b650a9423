#!/usr/bin/env bash
# Debian tools: prometheus (the server for `lascopf up`, promtool for the checks of monitoring/),
# prometheus-pushgateway (`lascopf up`), docker-compose (Compose v1, which validates the file without
# a Docker engine). Without docker-compose its static check skips and says why; without the
# Prometheus packages `lascopf up` and its live test fail naming them.
set -uo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 0
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "could not install ${missing[*]}" >&2
exit 0
