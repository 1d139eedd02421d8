#!/usr/bin/env python3
"""Memory of a snapshot transfer, on both sides (a benchmark, not a test).

Three nodes, one slot group (so one snapshot holds everything). Loads MB megabytes into the
group in 100 KiB values, stops follower 3, writes a little more and has the leader build a
snapshot and purge its log behind it, then starts node 3 again: it can only catch up by the
snapshot. Reports the snapshot file's size, the leader's and the follower's resident memory
(RSS) before, and their peak (VmHWM is per process, so the follower's peak is its whole life;
the leader's is sampled every 20 ms during the transfer), and the time to catch up.

  python3 bench/snapshot_memory.py [--mb 300] [--server target/release/slotraft-server]

Needs target/release/slotraft-server and slotraft-ctl (cargo build --release).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000:
            try:
                with socket.socket() as s2:
                    s2.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=300)
    ap.add_argument("--server", default=os.path.join(ROOT, "target", "release", "slotraft-server"))
    args = ap.parse_args()
    ctl = os.path.join(os.path.dirname(args.server), "slotraft-ctl")
    work = tempfile.mkdtemp(prefix="snapmem-")
    ports = [free_port() for _ in range(3)]
    initial = ",".join(f"{i + 1}=127.0.0.1:{p}@{p + 10000}" for i, p in enumerate(ports))
    procs = {}

    def start(i):
        cmd = [args.server, "--node-id", str(i), "--port", str(ports[i - 1]),
               "--dir", os.path.join(work, f"n{i}"), "--initial-cluster", initial,
               "--groups", "1", "--election-timeout-ms", "500", "--heartbeat-ms", "100",
               "--snapshot-logs", "1000000"]
        log = open(os.path.join(work, f"n{i}.log"), "a")
        procs[i] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                                    env={**os.environ, "RUST_LOG": "warn"})

    def leader():
        for _ in range(600):
            for i, p in enumerate(ports, 1):
                if i not in procs or procs[i].poll() is not None:
                    continue
                try:
                    r = redis.Redis(port=p)
                    slots = r.execute_command("CLUSTER", "SLOTS")
                    if slots:
                        port = slots[0][2][1]
                        return ports.index(port) + 1
                except Exception:
                    pass
            time.sleep(0.1)
        sys.exit("no leader")

    def status(i):
        out = subprocess.run([ctl, "--node", f"127.0.0.1:{ports[i - 1] + 10000}", "status"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            cols = line.split()
            if cols and cols[0] == "0":
                return {"state": cols[2], "applied": int(cols[7])}
        return None

    try:
        for i in (1, 2, 3):
            start(i)
        lead = leader()
        if lead == 3:
            subprocess.run([ctl, "--node", f"127.0.0.1:{ports[2] + 10000}", "transfer-leader",
                            "--group", "0", "--to", "1"], check=True)
            time.sleep(2)
            lead = leader()
        r = redis.Redis(port=ports[lead - 1])
        value = os.urandom(100 * 1024)
        count = args.mb * 10
        t = time.time()
        for k in range(0, count, 20):
            p = r.pipeline(transaction=False)
            for j in range(k, min(k + 20, count)):
                p.set(f"k{j}", value)
            p.execute()
        print(f"loaded {args.mb} MB in {time.time() - t:.1f} s")
        procs[3].kill()
        procs[3].wait()
        # More entries than the leader keeps behind a snapshot (1000): node 3's next entry is
        # purged, so only the snapshot can catch it up.
        p = r.pipeline(transaction=False)
        for j in range(1500):
            p.set(f"after{j}", "x")
        p.execute()
        subprocess.run([ctl, "--node", f"127.0.0.1:{ports[lead - 1] + 10000}", "snapshot"],
                       check=True, capture_output=True)
        time.sleep(3)
        snap = os.path.join(work, f"n{lead}", "snapshots", "group-0.snap")
        size = os.path.getsize(snap)
        leader_before = status_kib(procs[lead].pid, "VmRSS")
        peak = [leader_before]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], status_kib(procs[lead].pid, "VmRSS"))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        target = status(lead)["applied"]
        t = time.time()
        start(3)
        while True:
            s = status(3)
            if s and s["applied"] >= target:
                break
            if time.time() - t > 300:
                sys.exit("node 3 did not catch up in 300 s")
            time.sleep(0.1)
        caught_up = time.time() - t
        time.sleep(1)
        stop.set()
        sampler.join()
        follower_peak = status_kib(procs[3].pid, "VmHWM")
        follower_now = status_kib(procs[3].pid, "VmRSS")
        print(f"snapshot file: {size / 2**20:.0f} MiB; caught up by snapshot in {caught_up:.1f} s")
        print(f"leader  (sends):    RSS before {mib(leader_before)}, peak during transfer {mib(peak[0])} "
              f"(+{mib(peak[0] - leader_before)})")
        print(f"follower (receives): peak RSS over its life {mib(follower_peak)}, after {mib(follower_now)}")
    except BaseException:
        for i in (1, 2, 3):
            path = os.path.join(work, f"n{i}.log")
            if os.path.exists(path):
                print(f"---- node {i} log (last 15 lines) ----")
                print("".join(open(path).readlines()[-15:]))
        raise
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
