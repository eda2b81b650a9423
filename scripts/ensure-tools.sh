#!/usr/bin/env bash
# Debian tools the static checks use: promtool (package prometheus) for monitoring/, docker-compose
# (Compose v1, which validates the file without a Docker engine) for docker-compose.yml. Without them
# those tests skip and say why; nothing else depends on them.
set -uo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]} (sudo apt-get install ${missing[*]}); their static checks will skip" >&2
  exit 0
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "could not install ${missing[*]}; their static checks will skip" >&2
exit 0
