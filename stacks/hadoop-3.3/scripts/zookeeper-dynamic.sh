# zookeeper-dynamic.sh -- the ZooKeeper server's start with dynamic membership (setting
# `membership: dynamic`; ZooKeeper's reconfiguration, 3.5+). The membership is not rendered: it
# lives in a dynamic config file on the data volume, which ZooKeeper rewrites at every
# `reconfig` (a new zoo.cfg.dynamic.<version>, and the pointer in zoo.cfg). The rendered files
# (the ConfigMap in /conf, read-only) are copied to $conf on the data volume at every start,
# zoo.cfg with the pointer. Where the membership comes from, in this order:
#   1. the running ensemble, asked through the client Service (`config`): its membership as it
#      is (a restart during a roll, a server that lost its volume: it syncs from the leader), or,
#      when it does not list this server, that membership plus this server as an observer (a new
#      server, or one whose volume outlived an earlier shrink: the hook `membership` makes it a
#      participant with `reconfig -add` once it serves);
#   2. nobody answers: the data volume, the file ZooKeeper last wrote (every server restarting
#      at once);
#   3. nobody answers, no file, and this is server 1 (pod 0): a new ensemble of this server
#      alone (standaloneEnabled=false), which the others join as in 1. The others wait for 1.
# The super user's digest (for `reconfig`, which needs write access to /zookeeper/config) comes
# from the Secret of setting `superUserSecret` and reaches the JVM through java.env.
set -euo pipefail
ordinal="${POD_NAME##*-}"
case "$ordinal" in ''|*[!0-9]*) echo "cannot take an ordinal from POD_NAME=$POD_NAME" >&2; exit 1 ;; esac
myid=$((ordinal + 1))
me="$POD_NAME.{{ role.headless }}"
conf="{{ role.storage.data.mountPath }}/conf"
mkdir -p "$conf"
line() { printf 'server.%s=%s:{{ role.ports.quorum }}:{{ role.ports.election }}:%s;{{ role.ports.client }}\n' "$1" "$2" "$3"; }

{{ vars.superUserPassword }}
last=$(sed -n 's/^dynamicConfigFile=//p' "$conf/zoo.cfg" 2>/dev/null | tail -n 1 || true)
dyn="$conf/zoo.cfg.dynamic"
while :; do
  cur=$(timeout 20 zkCli.sh -server "$ZK_SERVICE" config 2>/dev/null | grep -E '^server\.[0-9]+=' || true)
  if [ -n "$cur" ]; then
    if grep -q "^server\.$myid=" <<<"$cur"; then
      echo "membership from the running ensemble, which lists this server:"
      printf '%s\n' "$cur" >"$dyn.new"
    else
      echo "joining the running ensemble as an observer:"
      { printf '%s\n' "$cur"; line "$myid" "$me" observer; } >"$dyn.new"
    fi
    mv "$dyn.new" "$dyn"
    break
  fi
  if [ -n "$last" ] && [ -s "$last" ]; then
    echo "no server answers on $ZK_SERVICE: membership from the data volume ($last):"
    dyn=$last
    break
  fi
  if [ "$ordinal" = 0 ]; then
    echo "no server answers on $ZK_SERVICE, none known: a new ensemble of this server alone:"
    line "$myid" "$me" participant >"$dyn.new"
    mv "$dyn.new" "$dyn"
    break
  fi
  echo "waiting for a server of the ensemble to answer on $ZK_SERVICE"
  sleep 5
done
cat "$dyn"

for f in /conf/*; do
  case "${f##*/}" in zoo.cfg) ;; *) cp -L "$f" "$conf/" ;; esac
done
{ cat /conf/zoo.cfg; printf 'dynamicConfigFile=%s\n' "$dyn"; } >"$conf/zoo.cfg.new"
mv "$conf/zoo.cfg.new" "$conf/zoo.cfg"
hex=$(printf '%s' "super:$pw" | sha1sum | cut -c1-40)
digest=$(printf "$(sed 's/../\\x&/g' <<<"$hex")" | base64)
printf '\nSERVER_JVMFLAGS="$SERVER_JVMFLAGS -Dzookeeper.DigestAuthenticationProvider.superDigest=super:%s"\n' "$digest" >>"$conf/java.env"
export ZOOCFGDIR="$conf"
exec zkServer.sh start-foreground
