#!/usr/bin/env python3
"""Regenerates the known-keys lists of a stack (default hadoop-3.3: stacks/hadoop-3.3/known-keys/).

A file definition in a stack may name such lists (`knownKeys:`): keys the daemon reads beyond
those the stack declares, so that bdp accepts an override of a real key silently and calls only a
truly unknown key "unknown" (a warning, an error with --strict), with a did-you-mean computed
against the stack's keys and these.

The lists are data, committed and reviewed like code. Rerun this script by hand when a stack's
service version changes (the `version:` of hdfs.yaml, yarn.yaml or zookeeper.yaml), review the diff, commit:

    python3 stacks/tools/known-keys.py            # from the repository root
    python3 stacks/tools/known-keys.py hadoop-3.4 # another stack folder (its own versions)

It downloads the release artifacts from Maven Central over HTTPS (standard library only), checks
nothing else, and writes one key per line, sorted (bytewise), after a header of `#` lines that
names the artifact, its URL and sha256. A line ending in `*` stands for every key with that prefix.

Sources:
  core-site.xml.txt   core-default.xml from org.apache.hadoop:hadoop-common:<hdfs version>
  hdfs-site.xml.txt   hdfs-default.xml from org.apache.hadoop:hadoop-hdfs:<hdfs version>
                      (hadoop-hdfs-client ships no *-default.xml; its client keys are in
                      hdfs-default.xml)
  yarn-site.xml.txt   yarn-default.xml from org.apache.hadoop:hadoop-yarn-common:<yarn version>
  mapred-site.xml.txt mapred-default.xml from
                      org.apache.hadoop:hadoop-mapreduce-client-core:<yarn version>
  zoo.cfg.txt         ZooKeeper has no defaults file. From the sources jar
                      org.apache.zookeeper:zookeeper:<zookeeper version>:sources: the keys
                      QuorumPeerConfig.parseProperties compares (`key.equals("...")`, and the
                      constants it compares with), its prefixes (`key.startsWith("...")`), and,
                      since every other zoo.cfg key becomes the Java system property
                      `zookeeper.<key>`, every "zookeeper.*" string literal of the sources plus
                      the X509Util properties built from "zookeeper.ssl." / "zookeeper.ssl.quorum.".
                      This is an extraction from source text, not a list ZooKeeper publishes: it
                      may hold a property that only a client reads, and it misses names built at
                      runtime in other ways.
  hbase-site.xml.txt  hbase-default.xml from org.apache.hbase:hbase-common:<hbase version>
  hadoop-env.sh.txt   Hadoop's shell scripts (hadoop-functions.sh, the hadoop-env.sh template) are
                      not published to Maven Central, so this list is written out below from the
                      hadoop-env.sh template of Hadoop 3.x
                      (hadoop-common-project/hadoop-common/src/main/conf/hadoop-env.sh), plus
                      HADOOP_HEAPSIZE, which hadoop-functions.sh still honours as a deprecated
                      name of HADOOP_HEAPSIZE_MAX. Review it by hand on a version change.
"""

import hashlib
import io
import os
import re
import sys
import urllib.request
import xml.etree.ElementTree as ET
import zipfile

MAVEN = "https://repo1.maven.org/maven2"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # stacks/
STACK = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "hadoop-3.3")
OUT = os.path.join(STACK, "known-keys")

# From the hadoop-env.sh template of Hadoop 3.x (every `export NAME=` it documents).
HADOOP_ENV = """
JAVA_HOME HADOOP_HOME HADOOP_CONF_DIR HADOOP_HEAPSIZE_MAX HADOOP_HEAPSIZE_MIN HADOOP_JAAS_DEBUG
HADOOP_OPTS HADOOP_OS_TYPE HADOOP_CLIENT_OPTS HADOOP_CLASSPATH HADOOP_USER_CLASSPATH_FIRST
HADOOP_USE_CLIENT_CLASSLOADER HADOOP_CLIENT_CLASSLOADER_SYSTEM_CLASSES HADOOP_OPTIONAL_TOOLS
HADOOP_SSH_OPTS HADOOP_SSH_PARALLEL HADOOP_WORKERS HADOOP_LOG_DIR HADOOP_IDENT_STRING
HADOOP_STOP_TIMEOUT HADOOP_PID_DIR HADOOP_ROOT_LOGGER HADOOP_DAEMON_ROOT_LOGGER
HADOOP_SECURITY_LOGGER HADOOP_NICENESS HADOOP_POLICYFILE HADOOP_GC_SETTINGS JSVC_HOME
HADOOP_SECURE_PID_DIR HADOOP_SECURE_LOG HADOOP_SECURE_IDENT_PRESERVE HDFS_AUDIT_LOGGER
HDFS_NAMENODE_OPTS HDFS_SECONDARYNAMENODE_OPTS HDFS_DATANODE_OPTS HDFS_DATANODE_SECURE_USER
HDFS_DATANODE_SECURE_EXTRA_OPTS HDFS_NFS3_OPTS HDFS_PORTMAP_OPTS HDFS_NFS3_SECURE_EXTRA_OPTS
HDFS_NFS3_SECURE_USER HDFS_ZKFC_OPTS HDFS_JOURNALNODE_OPTS HDFS_BALANCER_OPTS HDFS_MOVER_OPTS
HDFS_DFSROUTER_OPTS HADOOP_ENABLE_BUILD_PATHS HDFS_NAMENODE_USER
HADOOP_HEAPSIZE
""".split()


def stack_version(service):
    """The `version:` of a service (`    <service>:` followed by `      version: X`) in the stack
    folder's YAML files."""
    for name in sorted(os.listdir(STACK)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(STACK, name), encoding="utf-8") as f:
            m = re.search(r"^    " + re.escape(service) + r":\n      version: *\"?([0-9][^\s\"]*)", f.read(), re.M)
        if m:
            return m.group(1)
    sys.exit(f"no version of service {service} in {STACK}")


def fetch(group, artifact, version, classifier=""):
    name = f"{artifact}-{version}{'-' + classifier if classifier else ''}.jar"
    url = f"{MAVEN}/{group.replace('.', '/')}/{artifact}/{version}/{name}"
    with urllib.request.urlopen(url, timeout=120) as r:
        data = r.read()
    coords = f"{group}:{artifact}:{version}{':' + classifier if classifier else ''}"
    return zipfile.ZipFile(io.BytesIO(data)), [
        f"artifact: {coords}",
        f"url: {url}",
        f"sha256: {hashlib.sha256(data).hexdigest()}",
    ]


def write(name, what, header, keys):
    keys = sorted(set(keys), key=lambda k: k.encode())
    bad = [k for k in keys if not k or any(c.isspace() for c in k) or k.startswith("#")]
    if bad:
        sys.exit(f"{name}: unusable key names {bad[:5]}")
    lines = [
        f"# {what}",
        "# Generated by stacks/tools/known-keys.py; do not edit, rerun it on a version change.",
        *[f"# {h}" for h in header],
        f"# keys: {len(keys)}",
    ]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines + keys) + "\n")
    print(f"{name}: {len(keys)} keys")


def defaults_xml(jar, member):
    root = ET.fromstring(jar.read(member))
    return [p.findtext("name").strip() for p in root.iter("property") if p.findtext("name")]


def hadoop(version):
    jar, h = fetch("org.apache.hadoop", "hadoop-common", version)
    write("core-site.xml.txt", f"Keys of core-default.xml, Hadoop {version}", h + ["file: core-default.xml"],
          defaults_xml(jar, "core-default.xml"))
    jar, h = fetch("org.apache.hadoop", "hadoop-hdfs", version)
    write("hdfs-site.xml.txt", f"Keys of hdfs-default.xml, Hadoop {version}", h + ["file: hdfs-default.xml"],
          defaults_xml(jar, "hdfs-default.xml"))
    write("hadoop-env.sh.txt", f"Environment variables of hadoop-env.sh, Hadoop {version}",
          ["source: the hadoop-env.sh template of Hadoop 3.x (not on Maven Central; listed by hand",
           "in stacks/tools/known-keys.py), plus HADOOP_HEAPSIZE (deprecated name of HADOOP_HEAPSIZE_MAX)"],
          HADOOP_ENV)


def yarn(version):
    jar, h = fetch("org.apache.hadoop", "hadoop-yarn-common", version)
    write("yarn-site.xml.txt", f"Keys of yarn-default.xml, Hadoop {version}", h + ["file: yarn-default.xml"],
          defaults_xml(jar, "yarn-default.xml"))
    jar, h = fetch("org.apache.hadoop", "hadoop-mapreduce-client-core", version)
    write("mapred-site.xml.txt", f"Keys of mapred-default.xml, Hadoop {version}", h + ["file: mapred-default.xml"],
          defaults_xml(jar, "mapred-default.xml"))


def zookeeper(version):
    jar, h = fetch("org.apache.zookeeper", "zookeeper", version, "sources")
    sources = {n: jar.read(n).decode("utf-8", "replace") for n in jar.namelist() if n.endswith(".java")}

    def const(ref):  # Class.NAME -> its string value, from Class.java
        cls, field = ref.rsplit(".", 1)
        for n, text in sources.items():
            if n.endswith("/" + cls + ".java"):
                m = re.search(r"\b" + field + r"\s*=\s*\"([^\"]+)\"", text)
                if m:
                    return m.group(1)
        sys.exit(f"constant {ref} not found")

    qpc = next(t for n, t in sources.items() if n.endswith("/quorum/QuorumPeerConfig.java"))
    keys = set(re.findall(r'key\.equals\("([^"]+)"\)', qpc))
    keys |= {const(r) for r in re.findall(r"key\.equals\(([A-Z][A-Za-z]*\.[A-Z_]+)\)", qpc)}
    keys |= {p + "*" for p in re.findall(r'key\.startsWith\("([^"]+)"\)', qpc) if p.endswith(".")}
    for p in re.findall(r'key\.startsWith\("([^".]+)"\)', qpc):  # group.N, weight.N
        if p not in keys:
            keys.add(p + ".*")
    for text in sources.values():
        for lit in re.findall(r'"zookeeper\.([A-Za-z0-9_.-]+)"', text):
            keys.add(lit + "*" if lit.endswith(".") else lit)
    x509 = next(t for n, t in sources.items() if n.endswith("/common/X509Util.java"))
    for suffix in re.findall(r'getConfigPrefix\(\) \+ "([^"]+)"', x509):
        keys |= {"ssl." + suffix, "ssl.quorum." + suffix}
    # "zookeeper.ssl." and "zookeeper.ssl.quorum." are the prefixes X509Util builds its
    # property names from (listed above one by one), not families of free keys
    keys -= {"ssl.*", "ssl.quorum.*"}
    write("zoo.cfg.txt", f"Keys of zoo.cfg, ZooKeeper {version} (extracted from the sources, see the script)",
          h + ["from: QuorumPeerConfig.parseProperties, \"zookeeper.*\" literals, X509Util"], keys)


def hbase(version):
    jar, h = fetch("org.apache.hbase", "hbase-common", version)
    write("hbase-site.xml.txt", f"Keys of hbase-default.xml, HBase {version}", h + ["file: hbase-default.xml"],
          defaults_xml(jar, "hbase-default.xml"))


def main():
    hadoop(stack_version("hdfs"))
    yarn(stack_version("yarn"))
    zookeeper(stack_version("zookeeper"))
    if len(sys.argv) <= 1 or sys.argv[1] == "hadoop-3.3":
        hbase(stack_version("hbase"))


if __name__ == "__main__":
    main()
