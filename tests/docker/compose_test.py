"""The docker-compose cluster under real faults, driven by redis-py RedisCluster on the host.

Run by tests/docker/compose-test.sh (which builds the images, starts the compose project and
tears it down). Faults and what is asserted, in order:

1. Addresses: a client on the host (published ports) is given 127.0.0.1:<published port> for
   every node; a client inside the compose network (redis-cli -c in a container) is given
   node1:6379 ... and its redirected writes work.
2. 10,000 keys written through RedisCluster from the host; all acknowledged.
3. `docker kill` (SIGKILL) of the container leading the most slot groups while a background
   client keeps writing: every acknowledged write is readable; the container is restarted.
4. `docker network disconnect` of the leading container from the cluster network while the
   background client keeps writing: the isolated node, still reachable on its published port,
   acknowledges no write (direct SETs to it for keys in slots it claims to lead get no +OK);
   heal (`docker network connect`); every acknowledged write is readable.
5. Rolling restart (`docker-compose stop nodeN` = SIGTERM, `docker-compose start nodeN`, wait
   for health, for N = 1, 2, 3) while a client writes continuously with retries disabled: each
   node exits 0, the client sees zero errors (-MOVED redirects are followed by the client and
   are not errors), and every acknowledged write is readable.
"""

import json
import os
import random
import re
import subprocess
import sys
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot
from redis.retry import Retry

PROJECT = os.environ["COMPOSE_PROJECT_NAME"]
CLIENT_IMAGE = os.environ["SLOTRAFT_CLIENT_IMAGE"]
PORTS = {n: int(os.environ[f"SLOTRAFT_PORT{n}"]) for n in (1, 2, 3)}
CLUSTER_NET = f"{PROJECT}_cluster"
KEYS = 10_000


def log(msg):
    print(f"[compose-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*args, check=True, timeout=120):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout.strip()


def container(node):
    cid = run("docker-compose", "ps", "-q", f"node{node}")
    assert cid, f"no container for node{node}"
    return cid


def container_log(cid, tail):
    """The container's last `tail` log lines (the server logs to stderr), without colours."""
    r = subprocess.run(["docker", "logs", "--tail", str(tail), cid], capture_output=True, text=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr).splitlines()


def health(node):
    out = run("docker", "inspect", container(node), check=False)
    try:
        state = json.loads(out)[0]["State"]
    except (ValueError, IndexError, KeyError):
        return "missing"
    if not state.get("Running"):
        return "stopped"
    return state.get("Health", {}).get("Status", "none")


def wait_healthy(nodes=(1, 2, 3), timeout=90):
    deadline = time.time() + timeout
    while True:
        states = {n: health(n) for n in nodes}
        if all(s == "healthy" for s in states.values()):
            return
        if time.time() > deadline:
            raise AssertionError(f"containers not healthy within {timeout}s: {states}")
        time.sleep(0.5)


def cluster_client(nodes=(1, 2, 3), **kwargs):
    startup = [ClusterNode("127.0.0.1", PORTS[n]) for n in nodes]
    return RedisCluster(startup_nodes=startup, socket_timeout=15, **kwargs)


def slot_masters(node):
    """CLUSTER SLOTS as node `node` answers it on its published port: [(start, end, host, port)]."""
    c = redis.Redis(host="127.0.0.1", port=PORTS[node], socket_timeout=5)
    try:
        return [(s[0], s[1], s[2][0].decode(), s[2][1]) for s in c.execute_command("CLUSTER SLOTS")]
    finally:
        c.close()


def node_of_port(port):
    return next(n for n, p in PORTS.items() if p == port)


def busiest_leader(ask=(1, 2, 3)):
    for n in ask:
        try:
            masters = slot_masters(n)
        except redis.RedisError:
            continue
        # Slots per master (a master's adjacent groups are one CLUSTER SLOTS range), in
        # groups of the default 16.
        counts = {}
        for start, end, _, port in masters:
            counts[port] = counts.get(port, 0) + (end - start + 1) // 1024
        port = max(counts, key=counts.get)
        return node_of_port(port), counts[port]
    raise AssertionError("no node answers CLUSTER SLOTS")


class Writer(threading.Thread):
    """Writes distinct keys (value = key) until stopped; records what was acknowledged and
    every exception the client raised to the application."""

    def __init__(self, prefix, client, limit=None):
        super().__init__(daemon=True)
        self.prefix, self.client, self.limit = prefix, client, limit
        self.stop_event = threading.Event()
        self.acked, self.errors, self.attempts = [], [], 0

    def run(self):
        i = 0
        while not self.stop_event.is_set() and (self.limit is None or i < self.limit):
            key = f"{self.prefix}-{i}"
            i += 1
            self.attempts += 1
            try:
                if self.client.set(key, key) is True:
                    self.acked.append(key)
                else:
                    self.errors.append(f"{key}: unexpected reply")
            except Exception as e:  # every error the application would see
                self.errors.append(f"{key}: {type(e).__name__}: {e}")
                time.sleep(0.05)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=60)


def verify_readable(keys, what, threads=8):
    """Every key must read back as its own value (reads are retried until a deadline)."""
    missing, lock = [], threading.Lock()

    def check(chunk):
        rc = cluster_client()
        for key in chunk:
            deadline = time.time() + 30
            while True:
                try:
                    value = rc.get(key)
                    break
                except redis.RedisError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            if value != key.encode():
                with lock:
                    missing.append((key, value))
        rc.close()

    started = time.time()
    chunks = [keys[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=check, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not missing, f"{what}: {len(missing)} acknowledged writes not readable, e.g. {missing[:5]}"
    log(f"{what}: all {len(keys)} acknowledged writes readable ({time.time() - started:.1f}s)")


def check_addresses():
    # A client on the host is given the published ports.
    hosts = {(h, p) for _, _, h, p in slot_masters(1)}
    assert hosts <= {("127.0.0.1", p) for p in PORTS.values()}, f"host client got {hosts}"
    # A client inside the compose network is given the service names, and follows -MOVED.
    cmds = "".join(f"SET innet-{i} v{i}\n" for i in range(20)) + "CLUSTER SLOTS\n"
    out = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", CLUSTER_NET, CLIENT_IMAGE,
         "-c", "-h", "node1", "-p", "6379"],
        input=cmds, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, f"redis-cli in the compose network failed: {out.stderr}"
    lines = out.stdout.splitlines()
    oks = [l for l in lines if l.strip() == "OK"]
    redirects = [l for l in lines if l.startswith("-> Redirected")]
    words = set(out.stdout.split())
    assert len(oks) == 20, f"in-network writes: {lines[:40]}"
    assert redirects and all(r.split()[-1] in {"node1:6379", "node2:6379", "node3:6379"}
                             for r in redirects), f"in-network redirects: {redirects}"
    assert {"node1", "node2", "node3"} <= words, f"in-network CLUSTER SLOTS: {lines[-30:]}"
    assert "127.0.0.1" not in words, "an in-network client was given host addresses"
    rc = cluster_client()
    for i in range(20):
        assert rc.get(f"innet-{i}") == f"v{i}".encode()
    rc.close()
    log("addresses: host client gets 127.0.0.1:<published>, in-network client gets nodeN:6379")


def initial_load():
    started = time.time()
    writers = [Writer(f"base-{t}", cluster_client(), limit=KEYS // 8) for t in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    acked = [k for w in writers for k in w.acked]
    errors = [e for w in writers for e in w.errors]
    assert not errors, f"errors on a healthy cluster: {errors[:5]}"
    assert len(acked) == KEYS
    log(f"wrote {KEYS} keys through RedisCluster in {time.time() - started:.1f}s")
    return acked


def kill_busiest_leader():
    victim, led = busiest_leader()
    log(f"docker kill node{victim} (leads {led} groups)")
    run("docker", "kill", container(victim))
    time.sleep(4)
    return victim


def partition_busiest_leader():
    victim, led = busiest_leader()
    cid = container(victim)
    log(f"docker network disconnect node{victim} (leads {led} groups) from {CLUSTER_NET}")
    run("docker", "network", "disconnect", CLUSTER_NET, cid)
    claimed = [(a, b) for a, b, _, port in slot_masters(victim) if port == PORTS[victim]]
    assert claimed, "the isolated node claims no slots: the probe below would test nothing"

    def key_in(ranges):
        while True:
            key = f"probe-{random.getrandbits(48):x}"
            if any(a <= key_slot(key.encode()) <= b for a, b in ranges):
                return key

    outcomes, acked_by_isolated, lock = {}, [], threading.Lock()

    def probe(seconds):
        c = redis.Redis(host="127.0.0.1", port=PORTS[victim], socket_timeout=4)
        end = time.time() + seconds
        while time.time() < end:
            key = key_in(claimed)
            try:
                reply = c.set(key, "isolated")
                kind = "OK" if reply is True else repr(reply)
                if reply is True:
                    with lock:
                        acked_by_isolated.append(key)
            except redis.ResponseError as e:
                kind = f"{type(e).__name__}({str(e)[:30]}...)"
            except (redis.TimeoutError, redis.ConnectionError) as e:
                kind = type(e).__name__
                c = redis.Redis(host="127.0.0.1", port=PORTS[victim], socket_timeout=4)
            with lock:
                outcomes[kind] = outcomes.get(kind, 0) + 1

    probes = [threading.Thread(target=probe, args=(8,)) for _ in range(4)]
    for p in probes:
        p.start()
    for p in probes:
        p.join()
    log(f"isolated node{victim} claimed {len(claimed)} slot ranges; direct writes to it: {outcomes}")
    assert not acked_by_isolated, f"the isolated node acknowledged writes: {acked_by_isolated[:5]}"
    assert sum(outcomes.values()) > 0
    log(f"heal: docker network connect node{victim}")
    run("docker", "network", "connect", "--alias", f"node{victim}", CLUSTER_NET, cid)
    wait_healthy()


def rolling_restart():
    # Retries disabled: every error the server causes reaches the application and is counted.
    writers = [Writer(f"roll-{t}", cluster_client(retry=Retry(NoBackoff(), 0))) for t in range(2)]
    for w in writers:
        w.start()
    time.sleep(2)
    for n in (1, 2, 3):
        cid = container(n)
        started = time.time()
        run("docker-compose", "stop", f"node{n}")
        took = time.time() - started
        code = run("docker", "inspect", "-f", "{{.State.ExitCode}}", cid)
        assert code == "0", f"node{n} exited with {code} after SIGTERM"
        stopped = [l for l in container_log(cid, 20) if " stopped " in l]
        report = stopped[-1].split(" stopped ", 1)[1].strip() if stopped else "no stop report"
        run("docker-compose", "start", f"node{n}")
        wait_healthy()
        log(f"rolling restart: node{n} stopped in {took:.1f}s (exit 0; {report}), restarted, healthy")
        # Let the balancer give node{n} its preferred groups back, so the next stop again
        # moves leaderships away from a busy node.
        time.sleep(5)
    for w in writers:
        w.stop()
    acked = [k for w in writers for k in w.acked]
    errors = [e for w in writers for e in w.errors]
    attempts = sum(w.attempts for w in writers)
    log(f"rolling restart: {attempts} writes, {len(acked)} acknowledged, {len(errors)} client errors")
    assert not errors, f"client errors during the rolling restart: {errors[:10]}"
    return acked


def main():
    started = time.time()
    wait_healthy()
    check_addresses()
    acked = initial_load()
    verify_readable(acked, "after initial load")

    background = Writer("bg", cluster_client())
    background.start()
    victim = kill_busiest_leader()
    verify_readable(acked + list(background.acked), f"after docker kill of node{victim}")
    run("docker", "start", container(victim))
    wait_healthy()
    log(f"node{victim} restarted and healthy")
    time.sleep(5)  # leaderships go back to their preferred members

    partition_busiest_leader()
    background.stop()
    log(f"background writer: {background.attempts} writes, {len(background.acked)} acknowledged, "
        f"{len(background.errors)} errors (expected during kill and partition)")
    verify_readable(acked + background.acked, "after partition and heal")

    rolled = rolling_restart()
    verify_readable(rolled, "after rolling restart")
    log(f"all passed in {time.time() - started:.0f}s")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
