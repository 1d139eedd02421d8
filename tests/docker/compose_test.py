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
6. Membership change, with one RedisCluster client object (as an application keeps it) writing
   throughout: node4 (compose profile `join`) starts with `--join node1:16379` and registers as
   joining, holding nothing; `slotraft-ctl add-node 4 --wait`; node4 leads groups; `rebalance
   --wait`; `remove-node 1 --wait` drains node1 and marks it removed; node1 is stopped (exit
   0). The client sees no error but a redirect/TRYAGAIN/CLUSTERDOWN it surfaces; CLUSTER SLOTS
   (host and in-network clients) names node4 and not node1; every write acknowledged in the
   whole test (steps 2-6) is readable through node2..node4: 0 lost.
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
PORTS = {n: int(os.environ[f"SLOTRAFT_PORT{n}"]) for n in (1, 2, 3, 4)}
# node4 is behind the `join` profile; naming the profile lets every compose command see it.
COMPOSE = ("docker-compose", "--profile", "join")
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
    cid = run(*COMPOSE, "ps", "-q", f"node{node}")
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
        self.exceptions = []  # the exception objects behind `errors`

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
                self.exceptions.append(e)
                time.sleep(0.05)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=60)


def verify_readable(keys, what, threads=8, nodes=(1, 2, 3)):
    """Every key must read back as its own value, through clients that know only `nodes`.
    Reads go in cluster pipelines of 200 GETs (split by node by the client); a batch that
    fails is read again key by key, each retried until a deadline."""
    missing, failures, lock = [], [], threading.Lock()

    def get(rc, key):
        deadline = time.time() + 30
        while True:
            try:
                return rc.get(key)
            except redis.RedisError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def check(chunk):
        rc = cluster_client(nodes)
        try:
            for i in range(0, len(chunk), 200):
                batch = chunk[i:i + 200]
                try:
                    pipe = rc.pipeline()
                    for key in batch:
                        pipe.get(key)
                    values = pipe.execute()
                except redis.RedisError:
                    values = [get(rc, key) for key in batch]
                wrong = [(k, v) for k, v in zip(batch, values) if v != k.encode()]
                if wrong:
                    with lock:
                        missing.extend(wrong)
        except Exception as e:  # a reader that gives up must fail the check, not shorten it
            with lock:
                failures.append(f"{type(e).__name__}: {e}")
        finally:
            rc.close()

    started = time.time()
    chunks = [keys[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=check, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, f"{what}: reads failed: {failures[:5]}"
    assert not missing, f"{what}: {len(missing)} acknowledged writes not readable, e.g. {missing[:5]}"
    log(f"{what}: all {len(keys)} acknowledged writes readable, 0 lost "
        f"({time.time() - started:.1f}s)")


def in_network_cli(host, cmds):
    """redis-cli -c inside the compose network, dialling `host`:6379; its output lines."""
    out = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", CLUSTER_NET, CLIENT_IMAGE,
         "-c", "-h", host, "-p", "6379"],
        input=cmds, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, f"redis-cli in the compose network failed: {out.stderr}"
    return out.stdout


def check_addresses():
    # A client on the host is given the published ports.
    hosts = {(h, p) for _, _, h, p in slot_masters(1)}
    assert hosts <= {("127.0.0.1", p) for p in PORTS.values()}, f"host client got {hosts}"
    # A client inside the compose network is given the service names, and follows -MOVED.
    cmds = "".join(f"SET innet-{i} v{i}\n" for i in range(20)) + "CLUSTER SLOTS\n"
    out = in_network_cli("node1", cmds)
    lines = out.splitlines()
    oks = [l for l in lines if l.strip() == "OK"]
    redirects = [l for l in lines if l.startswith("-> Redirected")]
    words = set(out.split())
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
        run(*COMPOSE, "stop", f"node{n}")
        took = time.time() - started
        code = run("docker", "inspect", "-f", "{{.State.ExitCode}}", cid)
        assert code == "0", f"node{n} exited with {code} after SIGTERM"
        stopped = [l for l in container_log(cid, 20) if " stopped " in l]
        report = stopped[-1].split(" stopped ", 1)[1].strip() if stopped else "no stop report"
        run(*COMPOSE, "start", f"node{n}")
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


def ctl(*args, via=2, timeout=120):
    """slotraft-ctl in node `via`'s container (the image has no shell: exec the binary),
    talking to that node's gRPC port; --wait then polls every node through the registry's
    addresses, which resolve only inside the compose network."""
    cmd = ("docker", "exec", container(via), "/usr/local/bin/slotraft-ctl",
           "--node", "127.0.0.1:16379", *args)
    try:
        return run(*cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        status = run("docker", "exec", container(via), "/usr/local/bin/slotraft-ctl",
                     "--node", "127.0.0.1:16379", "status", check=False)
        raise AssertionError(f"slotraft-ctl {' '.join(args)} did not finish within {timeout}s; "
                             f"status:\n{status}")


def registry(via=2):
    """Node states in the cluster metadata, as `slotraft-ctl status` prints them."""
    out = ctl("status", via=via)
    states = dict(re.findall(r"^\s*node\s+(\d+)\s+(joining|active|draining|removed)\b", out, re.M))
    return {int(n): s for n, s in states.items()}


def slot_ports(node):
    """Every host port named in CLUSTER SLOTS (masters and replicas) as node `node` answers it
    on its published port."""
    c = redis.Redis(host="127.0.0.1", port=PORTS[node], socket_timeout=5)
    try:
        return {addr[1] for entry in c.execute_command("CLUSTER SLOTS") for addr in entry[2:]}
    finally:
        c.close()


# What a cluster client may surface while slots move: a redirect it did not follow, TRYAGAIN,
# CLUSTERDOWN. Anything else (a timeout, a refused connection, a wrong reply) is a failure.
ACCEPTABLE = (redis.exceptions.AskError, redis.exceptions.TryAgainError,
              redis.exceptions.ClusterDownError)


def membership_change():
    started = time.time()
    # One client object for the whole operation, as an application would keep it; it knows
    # only node1..node3 at first.
    client = cluster_client()
    writer = Writer("member", client)
    writer.start()

    def progress(what, n=200, timeout=30):
        """The writer acknowledges `n` more writes (so each phase is written through)."""
        target, deadline = len(writer.acked) + n, time.time() + timeout
        while len(writer.acked) < target:
            assert writer.is_alive(), "the writer stopped"
            assert time.time() < deadline, (f"{what}: fewer than {n} writes acknowledged in "
                                            f"{timeout}s; errors: {writer.errors[-5:]}")
            time.sleep(0.05)

    progress("before node4 starts")
    t = time.time()
    run(*COMPOSE, "up", "-d", "node4")
    wait_healthy((4,))
    states = registry()
    assert states.get(4) == "joining", f"node4 after --join: registry {states}"
    assert PORTS[4] not in slot_ports(2), "a joining node4 is named in CLUSTER SLOTS"
    log(f"node4 started with --join node1:16379: joining, holds nothing ({time.time() - t:.1f}s)")
    progress("node4 joining")

    t = time.time()
    ctl("add-node", "4", "--wait")
    states = registry()
    assert states.get(4) == "active", f"after add-node 4: registry {states}"
    took = time.time() - t
    # The leader balancer hands node4 its preferred leaderships within a few seconds.
    deadline = time.time() + 20
    while PORTS[4] not in slot_ports(2):
        assert time.time() < deadline, "node4 leads no group 20s after add-node"
        time.sleep(0.5)
    log(f"add-node 4 --wait: active in {took:.1f}s; node4 leads groups after "
        f"{time.time() - t:.1f}s")
    progress("after add-node 4")

    t = time.time()
    out = ctl("rebalance", "--wait")
    log(f"rebalance --wait: {time.time() - t:.1f}s ({out.splitlines()[0] if out else 'no output'})")
    progress("after rebalance")

    t = time.time()
    ctl("remove-node", "1", "--wait")
    states = registry()
    assert states.get(1) == "removed", f"after remove-node 1: registry {states}"
    log(f"remove-node 1 --wait: drained and removed in {time.time() - t:.1f}s; registry {states}")
    progress("after remove-node 1")

    cid = container(1)
    t = time.time()
    run(*COMPOSE, "stop", "node1")
    code = run("docker", "inspect", "-f", "{{.State.ExitCode}}", cid)
    assert code == "0", f"the removed node1 exited with {code} after SIGTERM"
    log(f"node1 stopped in {time.time() - t:.1f}s (exit 0)")
    progress("with node1 stopped")

    writer.stop()
    assert not writer.is_alive(), "the writer did not stop"
    # The same client still serves the application.
    assert client.set("member-final", "member-final") is True
    assert client.get("member-final") == b"member-final"
    client.close()
    acked = writer.acked + ["member-final"]
    by_kind = {}
    for e in writer.exceptions:
        by_kind[type(e).__name__] = by_kind.get(type(e).__name__, 0) + 1
    log(f"membership change: {writer.attempts + 1} writes through one client, {len(acked)} "
        f"acknowledged, {len(writer.errors)} client errors {by_kind or ''}")
    bad = [msg for msg, e in zip(writer.errors, writer.exceptions) if not isinstance(e, ACCEPTABLE)]
    assert not bad, f"client errors other than redirect/TRYAGAIN/CLUSTERDOWN: {bad[:10]}"

    # node1 is gone from every view, node4 is in it.
    for n in (2, 3, 4):
        ports = slot_ports(n)
        assert PORTS[1] not in ports, f"node{n}'s CLUSTER SLOTS still names node1: {ports}"
        assert PORTS[4] in ports, f"node{n}'s CLUSTER SLOTS does not name node4: {ports}"
        assert ports <= {PORTS[m] for m in (2, 3, 4)}, f"node{n}'s CLUSTER SLOTS: {ports}"
    words = set(in_network_cli("node4", "CLUSTER SLOTS\n").split())
    assert "node4" in words and "node1" not in words, f"in-network CLUSTER SLOTS: {sorted(words)}"
    log(f"CLUSTER SLOTS (host and in-network clients) names node4 and not node1; "
        f"membership change took {time.time() - started:.0f}s")
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

    moved = membership_change()
    verify_readable(acked + background.acked + rolled + moved,
                    "after node4 joined and node1 was removed", nodes=(2, 3, 4))
    log(f"all passed in {time.time() - started:.0f}s")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
