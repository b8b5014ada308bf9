#!/usr/bin/env python3
"""zk_ensemble.py -- a real ZooKeeper ensemble, bootstrapped the way bdp's rendered manifests say.

What it proves, for each StatefulSet `<cluster>-zookeeper-server` in a rendered manifest stream:
  * the `zookeeper` container reads the rendered zoo.cfg (its *.cfg argument, else
    $ZOOCFGDIR/zoo.cfg, is key zoo.cfg of the ConfigMap, through its volumeMounts);
  * the rendered init container `myid` (its own command, run locally as the pod's user, with
    POD_NAME=<sts>-<i> and ZOO_DATA_DIR from the manifest mapped to a temp volume) writes into
    dataDir a myid whose `server.<myid>` line names that very pod (<pod>.<service>.<namespace>...),
    on the same volume the `zookeeper` container reads dataDir from;
  * Debian's real ZooKeeper 3.8 (QuorumPeerMain), started on each "pod" from the rendered zoo.cfg,
    forms a quorum: exactly 1 leader and N-1 followers (`srvr`), and `ruok` is answered (the
    rendered 4lw whitelist must allow srvr and ruok, which probes use);
  * the rendered readiness probe (and the liveness probe, if any) of container `zookeeper` exits 0
    on every node, run as rendered with 127.0.0.1/localhost pointed at that node's address;
  * a znode written through one server is read through every other (kazoo);
  * with its peers gone, a lone server's readiness probe fails (readiness means "in quorum"), its
    liveness probe still passes, and so the StatefulSet must use podManagementPolicy: Parallel.
Only what one host needs is adapted in zoo.cfg: dataDir/dataLogDir -> temp dirs, the host of
`server.N` -> 127.0.0.(N+1) (all of 127/8 is loopback on Linux; ports kept; 127.0.X.(N+1) for the
first X whose ports are free if another run holds them), clientPortAddress ->
the node's address, admin server off, quorumListenOnAllIPs off, metricsProvider.* dropped (the
Prometheus provider is not in Debian's package). Servers bind loopback only and are stopped by PID.
Usage: zk_ensemble.py [--sts NAME]... [--timeout S] [--keep] STREAM.yaml
Exit 0 and a last line PASS, or exit 1 and FAIL: <reason>.
"""
import argparse, os, random, re, shutil, signal, socket, subprocess, sys, tempfile, time
import yaml

ZK_CP = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"  # manifest Class-Path pulls the rest
MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"


class Fail(Exception):
    pass


class PortRace(Exception):
    """a server could not bind a port that was free a moment before (another run on this machine)"""


def log(msg):
    print(msg, flush=True)


PROCS = []  # (pid, Popen) of every server we started


def stop_all(sig=signal.SIGTERM):
    for _, p in PROCS:
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
    deadline = time.time() + 10
    for _, p in PROCS:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


# ---------------------------------------------------------------- manifest model
def load_docs(path):
    with (sys.stdin if path == "-" else open(path)) as fh:
        return [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]


def meta(o, k, default=None):
    return (o.get("metadata") or {}).get(k, default)


def ns_of(o):
    return meta(o, "namespace") or "default"


def named(items, name, what):
    hits = [c for c in items or [] if c.get("name") == name]
    if len(hits) != 1:
        raise Fail(f"{what}: expected exactly one named {name!r}, found {[c.get('name') for c in items or []]}")
    return hits[0]


def resolve_path(container, path):
    """(volume name, path inside the volume) that `path` lands on in this container, or None."""
    best = None
    for m in container.get("volumeMounts") or []:
        mp = m["mountPath"].rstrip("/") or "/"
        if path == mp or path.startswith(mp + "/") or mp == "/":
            if best is None or len(mp) > len(best[0]):
                best = (mp, m)
    if best is None:
        return None
    mp, m = best
    rel = path[len(mp):].strip("/") if mp != "/" else path.strip("/")
    sub = (m.get("subPath") or "").strip("/")
    return m["name"], "/".join(x for x in (sub, rel) if x)


def container_env(c, pod):
    env = {}
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), str(e["value"]))
        elif ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") == "metadata.name":
            env[e["name"]] = pod
    return env


def parse_cfg(text):
    """zoo.cfg as an ordered list of [key, value] (None key for comments/blank lines)."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or "=" not in s:
            out.append([None, line]); continue
        k, v = s.split("=", 1)
        out.append([k.strip(), v.strip()])
    return out


def cfg_get(cfg, key):
    vals = [v for k, v in cfg if k == key]
    if len(vals) > 1:
        raise Fail(f"zoo.cfg: {key} given {len(vals)} times")
    return vals[0] if vals else None


SERVER_RE = re.compile(r"^([^:;\s]+):(\d+):(\d+)(?::(participant|observer))?(?:;(?:([^:;\s]+):)?(\d+))?$")


# ---------------------------------------------------------------- live ZooKeeper helpers
def four(ip, port, cmd, timeout=3.0):
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            s.sendall(cmd.encode()); s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def mode_of(ip, port):
    m = re.search(r"^Mode: (\w+)", four(ip, port, "srvr"), re.M)
    return m.group(1) if m else None


def port_free(ip, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((ip, port)); return True
    except OSError:
        return False
    finally:
        s.close()


def as_user(uid, gid):
    """argv prefix that runs a command as the pod's user (only possible, and only needed, as root)."""
    if os.geteuid() != 0 or uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


def run_probe(kind, probe, node, user, env, cwd):
    ex = (probe or {}).get("exec") or {}
    cmd = [str(x) for x in ex.get("command") or []]
    if not cmd:
        raise Fail(f"{kind} probe of container zookeeper is not an exec probe ({sorted((probe or {}).keys())})")
    if not any("127.0.0.1" in x or "localhost" in x for x in cmd):
        raise Fail(f"{kind} probe {cmd} does not name 127.0.0.1/localhost; cannot point it at one node")
    cmd = [x.replace("127.0.0.1", node["ip"]).replace("localhost", node["ip"]) for x in cmd]
    t = int(probe.get("timeoutSeconds", 1))
    try:
        r = subprocess.run(user + cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=t)
        return r.returncode, (r.stdout + r.stderr).strip()[-200:], cmd
    except subprocess.TimeoutExpired:
        return 124, f"timed out after timeoutSeconds={t}", cmd
    except OSError as e:
        return 127, str(e), cmd


def log_tail(node, n=6):
    try:
        lines = open(node["log"], errors="replace").read().splitlines()
    except OSError:
        return ""
    hits = [l for l in lines if re.search(r"ERROR|Exception|Invalid|Cannot|Address already in use", l)]
    return "\n".join("      " + l[:300] for l in (hits or lines)[-n:])


# ---------------------------------------------------------------- one ensemble
def ensemble(docs, sts, work, timeout):
    name, ns = meta(sts, "name"), ns_of(sts)
    log(f"== ensemble StatefulSet {ns}/{name}")
    cms = [d for d in docs if d.get("kind") == "ConfigMap" and meta(d, "name") == name and ns_of(d) == ns]
    if len(cms) != 1:
        raise Fail(f"ConfigMap {ns}/{name} (with zoo.cfg) is not rendered")
    text = (cms[0].get("data") or {}).get("zoo.cfg")
    if not text:
        raise Fail(f"ConfigMap {ns}/{name} has no data key zoo.cfg")
    spec = sts.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    svc = spec.get("serviceName")
    ps = ((spec.get("template") or {}).get("spec")) or {}
    init = named(ps.get("initContainers"), "myid", f"StatefulSet {name} initContainers")
    zk = named(ps.get("containers"), "zookeeper", f"StatefulSet {name} containers")
    # the server must read the rendered zoo.cfg: the path it is given (a *.cfg argument, else
    # $ZOOCFGDIR/zoo.cfg as zkServer.sh reads it) must be key zoo.cfg of ConfigMap <sts>, mounted
    zargs = [str(x) for x in (zk.get("command") or []) + (zk.get("args") or [])]
    cfg_path = next((x for x in zargs if x.endswith(".cfg")), None)
    zenv = container_env(zk, f"{name}-0")
    if cfg_path is None and zenv.get("ZOOCFGDIR"):
        cfg_path = zenv["ZOOCFGDIR"].rstrip("/") + "/zoo.cfg"
    if cfg_path is None:
        raise Fail(f"container zookeeper names no config file: no *.cfg argument in {zargs} and no ZOOCFGDIR env")
    where = resolve_path(zk, cfg_path)
    vol = next((v for v in ps.get("volumes") or [] if where and v.get("name") == where[0]), None)
    cmv = (vol or {}).get("configMap") or {}
    items = {it.get("path"): it.get("key") for it in cmv.get("items") or []} if cmv.get("items") else None
    key = (items or {}).get(where[1]) if items is not None else (where[1] if where else None)
    if cmv.get("name") != name or key != "zoo.cfg":
        raise Fail(f"container zookeeper reads {cfg_path}, which is not key zoo.cfg of ConfigMap {name} "
                   f"(it lands on {where}: {vol})")
    log(f"  ok   container zookeeper reads {cfg_path} = ConfigMap {name} key zoo.cfg")

    # init container contract: command runs a script; POD_NAME from the downward API; ZOO_DATA_DIR literal
    icmd = [str(x) for x in (init.get("command") or [])] + [str(x) for x in (init.get("args") or [])]
    if not init.get("command"):
        raise Fail("init container myid has no command")
    envs = {e.get("name"): e for e in init.get("env") or []}
    pn = envs.get("POD_NAME") or {}
    if ((pn.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") != "metadata.name":
        raise Fail(f"init container myid: POD_NAME is not valueFrom.fieldRef metadata.name: {pn}")
    zdd = (envs.get("ZOO_DATA_DIR") or {}).get("value")
    if not zdd or not zdd.startswith("/"):
        raise Fail(f"init container myid: ZOO_DATA_DIR is not a literal absolute path: {envs.get('ZOO_DATA_DIR')}")

    cfg = parse_cfg(text)
    data_dir = cfg_get(cfg, "dataDir")
    if not data_dir:
        raise Fail("zoo.cfg has no dataDir")
    where_init, where_zk = resolve_path(init, zdd), resolve_path(zk, data_dir)
    if where_init is None:
        raise Fail(f"init container myid writes ZOO_DATA_DIR={zdd} on no volume: the zookeeper container never sees it")
    if where_zk != where_init:
        raise Fail(f"myid lands on volume {where_init} (ZOO_DATA_DIR={zdd} in init container) but the zookeeper "
                   f"container reads dataDir={data_dir} from {where_zk}")
    log(f"  ok   ZOO_DATA_DIR={zdd} (init) and dataDir={data_dir} (zookeeper) are volume {where_init[0]}:/{where_init[1]}")

    wl = cfg_get(cfg, "4lw.commands.whitelist")
    words = {w.strip() for w in (wl or "srvr").split(",") if w.strip()}
    if "*" not in words and not {"srvr", "ruok"} <= words:
        raise Fail(f"4lw.commands.whitelist={wl!r} (default: srvr only) does not allow srvr and ruok, which the probes use")
    log(f"  ok   4lw.commands.whitelist={wl} allows srvr and ruok")
    if cfg_get(cfg, "dynamicConfigFile"):
        raise Fail("dynamicConfigFile is not supported by this harness (static membership expected)")

    # membership: server.N lines
    servers = {}
    for k, v in cfg:
        if k and re.fullmatch(r"server\.\d+", k):
            m = SERVER_RE.match(v)
            if not m:
                raise Fail(f"zoo.cfg: cannot parse {k}={v}")
            servers[int(k.split(".")[1])] = m
    if len(servers) != replicas and not (replicas == 1 and not servers):
        raise Fail(f"zoo.cfg lists {len(servers)} server.N lines but the StatefulSet has {replicas} replicas")
    # one server runs standalone unless standaloneEnabled=false (then it is a quorum of one: leader)
    standalone = replicas == 1 and (cfg_get(cfg, "standaloneEnabled") or "true").lower() != "false"
    client_port = cfg_get(cfg, "clientPort")
    cports = {m.group(6) for m in servers.values() if m.group(6)}
    if len(cports) > 1 or (client_port and cports and cports != {client_port}):
        raise Fail(f"client ports disagree: clientPort={client_port}, server lines {sorted(cports)}")
    cport = int(client_port or next(iter(cports), 0))
    if not cport:
        raise Fail("zoo.cfg sets no client port (clientPort= or ;port on server lines)")
    cports_zk = {p.get("containerPort") for p in zk.get("ports") or []}
    for n, m in sorted(servers.items()):
        for p in (int(m.group(2)), int(m.group(3)), cport):
            if p not in cports_zk:
                raise Fail(f"server.{n} port {p} is not a containerPort of container zookeeper ({sorted(cports_zk)})")

    # the pod's user, as the kubelet would run it
    psc, csc, isc = ps.get("securityContext") or {}, zk.get("securityContext") or {}, init.get("securityContext") or {}
    uid = isc.get("runAsUser", psc.get("runAsUser"))
    gid = isc.get("runAsGroup", psc.get("runAsGroup", psc.get("fsGroup", uid)))
    zuid = csc.get("runAsUser", psc.get("runAsUser"))
    zgid = csc.get("runAsGroup", psc.get("runAsGroup", psc.get("fsGroup", zuid)))
    if os.geteuid() == 0 and uid is None:
        uid = gid = 65534  # no runAsUser: the image's user decides; never run a rendered script as root here

    # per pod: volumes as temp dirs, run the rendered init step, read myid
    nodes = []
    for i in range(replicas):
        pod = f"{name}-{i}"
        pdir = os.path.join(work, pod); os.makedirs(pdir)
        vols = {}
        for c in (init, zk):
            for m in c.get("volumeMounts") or []:
                vols.setdefault(m["name"], os.path.join(pdir, "vol-" + m["name"]))
        for v in vols.values():
            os.makedirs(v, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(v, int(uid if uid is not None else 0), int(gid if gid is not None else 0))
        local_zdd = os.path.join(vols[where_init[0]], where_init[1]) if where_init[1] else vols[where_init[0]]
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": pdir, "HOSTNAME": pod}
        env.update(container_env(init, pod))
        env.update({"POD_NAME": pod, "ZOO_DATA_DIR": local_zdd})
        try:
            r = subprocess.run(as_user(uid, gid) + icmd, env=env, cwd=pdir, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail(f"{pod}: init container myid command {icmd[:2]}...: {e}")
        if r.returncode != 0:
            raise Fail(f"{pod}: init container myid exited {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}")
        try:
            myid_txt = open(os.path.join(local_zdd, "myid")).read()
        except OSError:
            raise Fail(f"{pod}: init container myid wrote no {zdd}/myid")
        if not re.fullmatch(r"\s*\d+\s*", myid_txt):
            raise Fail(f"{pod}: {zdd}/myid is {myid_txt!r}, not a number")
        myid = int(myid_txt)
        if not servers:
            pass  # standalone without server lines: myid is not used
        elif myid not in servers:
            raise Fail(f"{pod}: myid {myid} has no server.{myid} line (servers {sorted(servers)})")
        else:
            host = servers[myid].group(1)
            labels = host.split(".")
            if labels[0] != pod or (len(labels) > 1 and labels[1] != svc) or (len(labels) > 2 and labels[2] != ns):
                raise Fail(f"{pod}: myid {myid} but server.{myid} host is {host}, not {pod}.{svc}.{ns}.svc...")
        if not 1 <= myid <= 254:
            raise Fail(f"{pod}: myid {myid} is outside 1..254")
        nodes.append({"pod": pod, "myid": myid, "dir": pdir, "vols": vols,
                      "data": local_zdd, "log": os.path.join(pdir, "zookeeper.log")})
    if len({n["myid"] for n in nodes}) != replicas:
        raise Fail(f"myids are not unique: {[n['myid'] for n in nodes]}")
    log(f"  ok   rendered init step wrote myids {[n['myid'] for n in nodes]} for pods 0..{replicas - 1}, each matching its server.N host")

    # loopback addresses: 127.0.0.(myid+1), or 127.0.X.(myid+1) for the first X whose ports are all
    # free (so two runs on one machine, e.g. a developer's and CI's, do not collide)
    def ports_of(node):
        m = servers.get(node["myid"])
        return ((int(m.group(2)), int(m.group(3))) if m else ()) + (cport,)
    lost = set()  # loopback nets where another process took a port between our check and the bind
    for attempt in range(3):
        try:
            # first 127.0.0.x; after a lost race a random other net, so that racing runs part ways
            order = [0] + random.sample(range(1, 255), 254) if not lost else random.sample(range(1, 255), 254)
            net = next((f"127.0.{x}." for x in order if f"127.0.{x}." not in lost
                        and all(port_free(f"127.0.{x}.{n['myid'] + 1}", p) for n in nodes for p in ports_of(n))), None)
            if net is None:
                raise Fail("the ZooKeeper ports are in use on every 127.0.X net (other ensembles still running?)")
            for node in nodes:
                node["ip"] = f"{net}{node['myid'] + 1}"

            # adapt zoo.cfg for one host
            notes = set()
            for node in nodes:
                out, seen_cpa = [], False
                for k, v in cfg:
                    if k is None:
                        out.append(v); continue
                    if k == "dataDir":
                        v = node["data"]
                    elif k == "dataLogDir":
                        v = os.path.join(node["dir"], "datalog"); os.makedirs(v, exist_ok=True)
                        if os.geteuid() == 0 and zuid is not None:
                            os.chown(v, int(zuid), int(zgid))
                    elif re.fullmatch(r"server\.\d+", k):
                        m = SERVER_RE.match(v); ip = f"{net}{int(k.split('.')[1]) + 1}"
                        v = f"{ip}:{m.group(2)}:{m.group(3)}" + (f":{m.group(4)}" if m.group(4) else "") \
                            + (f";{ip}:{m.group(6)}" if m.group(6) else "")
                    elif k == "clientPortAddress":
                        v, seen_cpa = node["ip"], True
                    elif k in ("admin.enableServer", "admin.serverPort", "admin.serverAddress"):
                        notes.add("admin server off"); continue
                    elif k == "quorumListenOnAllIPs":
                        notes.add("quorumListenOnAllIPs=false"); v = "false"
                    elif k.startswith("metricsProvider."):
                        notes.add("metricsProvider.* dropped (Prometheus provider not in Debian's zookeeper)"); continue
                    elif k in ("secureClientPort", "secureClientPortAddress"):
                        notes.add(f"{k} dropped (no TLS material here)"); continue
                    out.append(f"{k}={v}")
                out.append("admin.enableServer=false")
                if not seen_cpa:
                    out.append(f"clientPortAddress={node['ip']}")
                node["cfg"] = os.path.join(node["dir"], "zoo.cfg")
                with open(node["cfg"], "w") as fh:
                    fh.write("\n".join(out) + "\n")
            log(f"  ..   zoo.cfg adapted for one host: dataDir/dataLogDir -> temp, server.N -> {net}(N+1), "
                f"clientPortAddress per node{''.join(', ' + n for n in sorted(notes))}")

            # start the servers
            for node in nodes:
                cmd = as_user(zuid if zuid is not None else uid, zgid if zuid is not None else gid) + [
                    "java", "-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dzookeeper.jmx.log4j.disable=true",
                    "-Djava.io.tmpdir=" + node["dir"], "-cp", ZK_CP, MAIN, node["cfg"]]
                with open(node["log"], "w") as lf:
                    if os.geteuid() == 0:
                        os.chown(node["dir"], int(zuid if zuid is not None else uid), int(zgid if zuid is not None else gid))
                    p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=node["dir"])
                PROCS.append((p.pid, p)); node["proc"] = p
            log(f"  ..   started {replicas} ZooKeeper servers, PIDs {[n['proc'].pid for n in nodes]}, "
                f"client endpoints {[n['ip'] + ':' + str(cport) for n in nodes]}")

            t0 = time.time(); modes = []; settled = False
            while True:
                for node in nodes:
                    if node["proc"].poll() is not None:
                        if "Address already in use" in open(node["log"], errors="replace").read():
                            raise PortRace(f"{node['pod']}: a port on {node['ip']} was taken meanwhile by another process")
                        raise Fail(f"{node['pod']} (myid {node['myid']}) exited with {node['proc'].returncode}:\n{log_tail(node)}")
                modes = [mode_of(n["ip"], cport) for n in nodes]
                if modes == ["standalone"] if standalone else (modes.count("leader") == 1 and modes.count("follower") == replicas - 1):
                    if settled:
                        break
                    settled = True  # look again in a second: a server that lost a port race is gone by then
                else:
                    settled = False
                if time.time() - t0 > timeout:
                    raise Fail(f"no {'standalone server' if standalone else 'quorum'} after {timeout}s; srvr modes {modes}\n" + "\n".join(log_tail(n, 3) for n in nodes))
                time.sleep(1.0 if settled else 0.5)
            break
        except PortRace as e:
            stop_all(); PROCS.clear(); lost.add(net)
            log(f"  ..   {e}; starting again on another loopback net")
    else:
        raise Fail(f"ZooKeeper lost the race for its ports 3 times ({sorted(lost)})")
    log(f"  ok   serving in {time.time() - t0:.1f}s: modes {modes} "
        f"({'standalone, as one server with standaloneEnabled' if standalone else f'1 leader, {replicas - 1} followers'})")
    for node in nodes:
        r = four(node["ip"], cport, "ruok")
        if r != "imok":
            raise Fail(f"{node['pod']}: ruok answered {r!r}")
    log("  ok   ruok -> imok on every server")

    # the rendered probes, per node
    def probe_env(node):
        e = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": node["dir"], "HOSTNAME": node["pod"]}
        e.update(container_env(zk, node["pod"]))
        return e
    zuser = as_user(zuid if zuid is not None else uid, zgid if zuid is not None else gid)
    probes = [("readiness", zk.get("readinessProbe"))] + ([("liveness", zk["livenessProbe"])] if zk.get("livenessProbe") else [])
    if not zk.get("readinessProbe"):
        raise Fail("container zookeeper has no readinessProbe")
    for kind, probe in probes:
        for node in nodes:
            for attempt in range(3):  # the kubelet retries too; a ready server passes at once
                rc, out, cmd = run_probe(kind, probe, node, zuser, probe_env(node), node["dir"])
                if rc == 0:
                    break
                time.sleep(1)
            if rc != 0:
                raise Fail(f"{node['pod']}: {kind} probe {cmd} exited {rc}: {out}")
        log(f"  ok   {kind} probe passes on all {replicas} servers: {cmd}")

    # a znode written through one server is read through every other
    import logging
    logging.basicConfig(level=logging.CRITICAL)
    from kazoo.client import KazooClient
    ep = [f"{n['ip']}:{cport}" for n in nodes]
    path, value = f"/bdp-e2e/{name}", f"written via {nodes[0]['pod']}".encode()
    clients = []
    try:
        w = KazooClient(hosts=ep[0], timeout=5); clients.append(w); w.start(timeout=15)
        w.create(path, value, makepath=True)
        for e in ep[1:]:
            r = KazooClient(hosts=e, timeout=5); clients.append(r); r.start(timeout=15)
            r.sync(path)
            got = r.get(path)[0]
            if got != value:
                raise Fail(f"znode {path} read via {e} is {got!r}, written {value!r} via {ep[0]}")
    except Fail:
        raise
    except Exception as ex:  # kazoo timeouts, connection loss
        raise Fail(f"kazoo round-trip: {type(ex).__name__}: {ex}")
    finally:
        for c in clients:
            try:
                c.stop(); c.close()
            except Exception:
                pass
    log(f"  ok   znode {path} written via {ep[0]}, read via {', '.join(ep[1:]) or '(single server)'}")

    # readiness means "in quorum": stop every peer of pod 0, its readiness must turn false
    if replicas >= 3:
        lone = nodes[0]
        for node in nodes[1:]:
            node["proc"].terminate()
        for node in nodes[1:]:
            try:
                node["proc"].wait(timeout=10)
            except subprocess.TimeoutExpired:
                node["proc"].kill(); node["proc"].wait()
        # a follower notices at once (its leader's socket closes); a leader after syncLimit ticks
        ticks = int(cfg_get(cfg, "tickTime") or 2000) * int(cfg_get(cfg, "syncLimit") or 5) / 1000
        bound = max(15.0, 2 * ticks + 5)
        t1 = time.time()
        while True:
            rc, out, cmd = run_probe("readiness", zk["readinessProbe"], lone, zuser, probe_env(lone), lone["dir"])
            if rc != 0:
                break
            if time.time() - t1 > bound:
                raise Fail(f"{lone['pod']}: readiness probe still passes {bound:.0f}s after losing quorum (mode "
                           f"{mode_of(lone['ip'], cport)}): it does not test membership, so rolling restarts "
                           f"would not wait for a server to rejoin")
            time.sleep(1)
        log(f"  ok   without quorum ({lone['pod']} alone, mode {mode_of(lone['ip'], cport)}) the readiness probe fails (rc {rc})")
        if zk.get("livenessProbe"):
            rc, out, cmd = run_probe("liveness", zk["livenessProbe"], lone, zuser, probe_env(lone), lone["dir"])
            if rc != 0:
                raise Fail(f"{lone['pod']}: liveness probe fails while the server runs without quorum (rc {rc}: {out}): "
                           f"the kubelet would restart healthy servers during a quorum loss")
            log("  ok   ... while its liveness probe still passes (the process is alive)")
        pmp = spec.get("podManagementPolicy", "OrderedReady")
        if pmp != "Parallel":
            raise Fail(f"podManagementPolicy is {pmp}: with readiness = in quorum, pod 0 never becomes Ready alone "
                       f"and pod 1 is never created (bootstrap deadlock); use Parallel")
        log("  ok   podManagementPolicy: Parallel (all servers start together, so a quorum can form)")
    stop_all()
    PROCS.clear()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stream")
    ap.add_argument("--sts", action="append", default=[], help="StatefulSet name (default: every *-zookeeper-server)")
    ap.add_argument("--timeout", type=float, default=90, help="seconds to wait for a quorum")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    t0 = time.time()
    if not os.path.exists("/usr/share/java/zookeeper.jar"):
        print("FAIL: Debian zookeeper is not installed (tests/e2e/install.sh --only zk)"); return 1
    work = tempfile.mkdtemp(prefix="bdp-e2e-zk.")
    os.chmod(work, 0o755)
    try:
        docs = load_docs(a.stream)
        stss = [d for d in docs if d.get("kind") == "StatefulSet"
                and (meta(d, "name") in a.sts if a.sts else str(meta(d, "name", "")).endswith("-zookeeper-server"))]
        if not stss or (a.sts and len(stss) != len(a.sts)):
            raise Fail(f"no StatefulSet {a.sts or '*-zookeeper-server'} in {a.stream}")
        for sts in stss:
            ensemble(docs, sts, work, a.timeout)
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        stop_all()
        if a.keep:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"PASS: {len(stss)} ensemble(s) in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
