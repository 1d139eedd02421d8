#!/usr/bin/env python3
"""Memory per key, slotraft next to Redis, for the same data (a benchmark, not a test).

Loads into a single-node slotraft and a plain redis-server 7.0 (no persistence), one after the
other on the same machine:
  strings: N small string keys (key ~18 bytes, value 10 bytes), MSET in batches of 1000 keys
           sharing a hash tag (slotraft refuses cross-slot MSET, as Redis Cluster does);
  hashes:  H hashes of F fields each (field ~10 bytes, value 10 bytes), HSET 1000 fields a call.
Reports, per data set, the growth of each server's resident memory (RSS, from /proc) and
Redis' own used_memory, divided by the number of keys (or hash fields).

  python3 bench/memory.py [--keys 1000000] [--hashes 10] [--fields 100000]

Needs redis-server on PATH and target/release/slotraft-server (cargo build --release).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ.get("SLOTRAFT_SERVER", os.path.join(ROOT, "target", "release", "slotraft-server"))


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000:
            return port


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def wait_up(port):
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            r = redis.Redis(port=port)
            r.set("__probe", "1")
            r.delete("__probe")
            return
        except (redis.exceptions.ConnectionError, redis.exceptions.ResponseError):
            time.sleep(0.2)
    sys.exit(f"server on {port} did not start")


def load_strings(r, n):
    batch = 1000
    for b in range(0, n, batch):
        tag = f"{{b{b // batch}}}"
        pairs = {f"key:{tag}:{i:07d}": f"val{i:07d}" for i in range(b, min(n, b + batch))}
        r.mset(pairs)


def load_hashes(r, hashes, fields):
    for h in range(hashes):
        for b in range(0, fields, 1000):
            mapping = {f"f{i:08d}": f"v{i:08d}" for i in range(b, min(fields, b + 1000))}
            r.hset(f"hash:{h}", mapping=mapping)


def measure(name, pid, r, load, count, used_memory):
    r.execute_command("PING")
    before = rss(pid)
    used_before = used_memory()
    t0 = time.time()
    load()
    secs = time.time() - t0
    time.sleep(1)
    after = rss(pid)
    used_after = used_memory()
    row = {
        "server": name,
        "items": count,
        "load_s": round(secs, 1),
        "rss_bytes_per_item": round((after - before) / count, 1),
        "used_memory_bytes_per_item": None if used_after is None else round((used_after - used_before) / count, 1),
    }
    print(row, flush=True)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--hashes", type=int, default=10)
    ap.add_argument("--fields", type=int, default=100_000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="slotraft-mem-")
    procs = []
    try:
        rows = []
        for kind in ("strings", "hashes"):
            for name in ("redis", "slotraft"):
                port = free_port()
                if name == "redis":
                    cmd = [shutil.which("redis-server"), "--port", str(port), "--save", "", "--appendonly", "no",
                           "--dir", tmp]
                else:
                    cmd = [SERVER, "--port", str(port), "--grpc-port", str(free_port()),
                           "--dir", os.path.join(tmp, f"slotraft-{kind}")]
                p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                procs.append(p)
                wait_up(port)
                r = redis.Redis(port=port)

                def used():
                    return int(r.info("memory")["used_memory"]) if name == "redis" else None

                if kind == "strings":
                    rows.append((kind, measure(name, p.pid, r, lambda: load_strings(r, args.keys), args.keys, used)))
                else:
                    n = args.hashes * args.fields
                    rows.append((kind, measure(name, p.pid, r, lambda: load_hashes(r, args.hashes, args.fields), n, used)))
                p.kill()
                p.wait()
        print()
        print(f"{'data':10} {'server':10} {'items':>9} {'load s':>7} {'RSS B/item':>11} {'used_memory B/item':>19}")
        for kind, row in rows:
            um = "-" if row["used_memory_bytes_per_item"] is None else row["used_memory_bytes_per_item"]
            print(f"{kind:10} {row['server']:10} {row['items']:>9} {row['load_s']:>7} {row['rss_bytes_per_item']:>11} {um:>19}")
    finally:
        for p in procs:
            p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
