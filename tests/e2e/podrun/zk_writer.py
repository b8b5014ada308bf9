#!/usr/bin/env python3
"""zk_writer.py -- a ZooKeeper client on the host that writes continuously to podrun's pods.

Each write creates one new znode /podrun-writes/<run>/w-<n> (through kazoo, one session to the
ensemble's pod addresses). A write that meets ConnectionLoss (the server it talks to went away) is
retried within the same session until it succeeds or the session timeout has passed since the
write began; NodeExists on a retry means the earlier try had gone through. A write counts as FAILED
only if it did not succeed within the session timeout (or the session expired); every request is
bounded by it, so a client that can no longer get a session (every server refuses it: it has seen a
zxid the ensemble lost) fails its writes instead of waiting forever. At the end every write that
succeeded is read back in a new session (data lost = a succeeded write whose znode is missing, or
that cannot be read back within 2 minutes).
Bounded: it stops when STOP_FILE exists or after --max-seconds, at most --rate writes per second.
Prints one JSON line: attempted, succeeded, failed (late ones included), late (went through, but
only after the session timeout: counted as failed), retried (writes that needed a retry), lost,
max_latency_s. Exit 0 always (the caller checks the numbers).
Usage: zk_writer.py --hosts H:P,H:P --run NAME --stop-file F [--max-seconds S] [--rate R]
"""
import argparse, json, os, time

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NodeExistsError, SessionExpiredError, ConnectionClosedError
from kazoo.handlers.threading import KazooTimeoutError

ap = argparse.ArgumentParser()
ap.add_argument("--hosts", required=True)
ap.add_argument("--run", required=True)
ap.add_argument("--stop-file", required=True)
ap.add_argument("--max-seconds", type=float, default=600)
ap.add_argument("--rate", type=float, default=20)
# 30 s: what ZooKeeper clients in this field run with (HBase 90 s, Curator 60 s, Kafka 18 s); kazoo's
# own default is 10 s. A write not acknowledged within it counts as failed.
ap.add_argument("--session-timeout", type=float, default=30.0)
a = ap.parse_args()

zk = KazooClient(hosts=a.hosts, timeout=a.session_timeout, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1})
zk.start(timeout=30)
base = f"/podrun-writes/{a.run}"
zk.ensure_path(base)
t_end = time.time() + a.max_seconds
n = attempted = succeeded = failed = retried = late = 0
max_lat = 0.0
ok_paths = []
errors = []
while time.time() < t_end and not os.path.exists(a.stop_file):
    n += 1
    attempted += 1
    path = f"{base}/w-{n:07d}"
    t0 = time.time()
    tries = 0
    done = False
    while time.time() - t0 < a.session_timeout:
        tries += 1
        try:
            # bounded: a request made while the client cannot reconnect (every server refuses its
            # session, e.g. after a split brain truncated what it had seen) would wait forever
            zk.create_async(path, str(n).encode()).get(timeout=max(0.1, a.session_timeout - (time.time() - t0)))
            done = True
            break
        except KazooTimeoutError:
            errors.append(f"w-{n}: no answer within the session timeout")
            break
        except NodeExistsError:
            done = tries > 1  # an earlier try of this write went through
            break
        except (ConnectionLoss, ConnectionClosedError):
            time.sleep(0.1)
        except SessionExpiredError as e:
            errors.append(f"w-{n}: session expired")
            break
        except Exception as e:  # noqa: BLE001 -- counted, reported
            errors.append(f"w-{n}: {type(e).__name__}: {e}")
            time.sleep(0.1)
    lat = time.time() - t0
    max_lat = max(max_lat, lat)
    if tries > 1:
        retried += 1
    if done and lat > a.session_timeout:
        # the last try began within the session timeout but ended after it: not in time, so failed
        done = False
        late += 1
    if done:
        succeeded += 1
        ok_paths.append(path)
    else:
        failed += 1
        if len(errors) < 5:
            errors.append(f"w-{n}: not written within {a.session_timeout}s (began {t0:.3f}, took {lat:.3f}s)")
    time.sleep(max(0.0, 1.0 / a.rate - lat))
zk.stop()
zk.close()
# read back in a new session: the writing session may be refused by every server (it has seen a
# zxid the ensemble no longer has: writes were truncated), and what counts is what the ensemble holds
lost = 0
unread = 0
rd = KazooClient(hosts=a.hosts, timeout=a.session_timeout, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1})
try:
    rd.start(timeout=60)
    deadline = time.time() + 120
    for p in ok_paths:
        while True:
            try:
                if rd.exists_async(p).get(timeout=max(0.1, deadline - time.time())) is None:
                    lost += 1
                break
            except (ConnectionLoss, ConnectionClosedError):
                if time.time() > deadline:
                    unread += 1
                    break
                time.sleep(0.1)
            except KazooTimeoutError:
                unread += 1
                break
    rd.stop()
    rd.close()
except KazooTimeoutError:
    unread = len(ok_paths)
    errors.append("read-back: no session within 60 s")
lost += unread  # a write that cannot be read back counts as lost
print(json.dumps({"attempted": attempted, "succeeded": succeeded, "failed": failed, "late": late, "retried": retried,
                  "lost": lost, "max_latency_s": round(max_lat, 3), "errors": errors[:5]}))
