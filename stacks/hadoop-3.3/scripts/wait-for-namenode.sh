#!/usr/bin/env bash
tries=0
while :; do
  for nn in ${NAMENODES//,/ }; do
    if timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${nn%:*}" "${nn##*:}" 2>/dev/null; then
      echo "namenode $nn is up"
      exit 0
    fi
  done
  tries=$((tries + 1))
  if [ "$tries" -ge "$WAIT_TRIES" ]; then
    echo "no namenode accepted connections after $tries rounds: $NAMENODES" >&2
    exit 1
  fi
  sleep 5
done
