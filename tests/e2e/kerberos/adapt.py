#!/usr/bin/env python3
"""adapt.py -- the only changes the Kerberos e2e test makes to rendered krb5 profiles, so that they
run on one host, as an unprivileged process, on loopback. Each change is printed.

  adapt.py kdc-conf SRC DEST --db DIR --acl FILE --kdc PORT --kadmin PORT --kpasswd PORT
      database_name / key_stash_file -> DIR/<same file name>; acl_file -> FILE;
      kdc_listen, kdc_tcp_listen, kadmind_listen, kpasswd_listen -> 127.0.0.1:<port>
  adapt.py krb5-conf SRC DEST --kdc PORT --kadmin PORT
      in [realms]: every `kdc` relation -> one `kdc = 127.0.0.1:PORT`;
      `admin_server` -> 127.0.0.1:PORT
Everything else (realm, enctypes, lifetimes, rdns, canonicalisation, domain_realm, logging) stays
as rendered. A relation that is expected but absent is an error (exit 1), so a rendering that lost
e.g. its database_name cannot pass by accident.
"""
import argparse, os, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("what", choices=["kdc-conf", "krb5-conf"])
ap.add_argument("src")
ap.add_argument("dest")
ap.add_argument("--db")
ap.add_argument("--acl")
ap.add_argument("--kdc", type=int, required=True)
ap.add_argument("--kadmin", type=int, required=True)
ap.add_argument("--kpasswd", type=int)
a = ap.parse_args()

REL = re.compile(r"^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)(.*)$")
lines = open(a.src).read().splitlines()
out, seen, section = [], set(), None
for line in lines:
    s = line.strip()
    if s.startswith("[") and s.endswith("]"):
        section = s[1:-1]
        out.append(line)
        continue
    m = REL.match(line)
    if not m or m.group(4).strip() == "{":
        out.append(line)
        continue
    ind, name, eq, val = m.groups()
    new = None
    if a.what == "kdc-conf":
        if name in ("database_name", "key_stash_file"):
            new = os.path.join(a.db, os.path.basename(val.strip()))
        elif name == "acl_file":
            new = a.acl
        elif name in ("kdc_listen", "kdc_tcp_listen"):
            new = f"127.0.0.1:{a.kdc}"
        elif name == "kadmind_listen":
            new = f"127.0.0.1:{a.kadmin}"
        elif name == "kpasswd_listen":
            new = f"127.0.0.1:{a.kpasswd}"
    elif section == "realms":
        if name == "kdc":
            if "kdc" in seen:
                print(f"krb5.conf: dropped  kdc = {val}")
                continue
            new = f"127.0.0.1:{a.kdc}"
        elif name == "admin_server":
            new = f"127.0.0.1:{a.kadmin}"
    if new is None:
        out.append(line)
        continue
    seen.add(name)
    print(f"{'kdc.conf' if a.what == 'kdc-conf' else 'krb5.conf'}: {name} = {val}  ->  {new}")
    out.append(f"{ind}{name}{eq}{new}")

want = {"kdc-conf": {"database_name", "key_stash_file", "acl_file", "kdc_listen", "kdc_tcp_listen", "kadmind_listen"},
        "krb5-conf": {"kdc", "admin_server"}}[a.what]
if want - seen:
    sys.exit(f"adapt.py: {a.src} lacks {sorted(want - seen)}")
with open(a.dest, "w") as f:
    f.write("\n".join(out) + "\n")
