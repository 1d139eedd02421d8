"""One topology for every client: CLUSTER SLOTS, CLUSTER SHARDS and CLUSTER NODES, asked of every
node, describe the same cluster, in which every node is a master of exactly the slot ranges
whose groups it leads (per its own Raft state, read with `slotraft-ctl status`) and no node is
shown as a replica; and the commands cluster clients send "to every primary" (SCAN, KEYS,
DBSIZE, FLUSHALL, RANDOMKEY, INFO) through redis-py and valkey-py give what Redis Cluster
gives, before and after a leader is killed (kill -9) and its groups fail over.

Clusters: the session's 3 nodes and 16 groups (every node hosts every group), and 4 nodes with
3 groups of 3 replicas, where node 4 leads no group and nodes 1 and 2 each host only two of
the three groups (they learn the third group's leader from their peers).
"""
import os
import subprocess
import time

import pytest
import redis
import valkey
from redis.cluster import RedisCluster
from valkey.cluster import ValkeyCluster

from conftest import SERVER, Cluster
from test_redis_parity import Resp

SLOTS = 16384
CTL = os.path.join(os.path.dirname(SERVER), "slotraft-ctl")


def plain(reply):
    """A (type, value) tree from `Resp` as Python values: maps as dicts, strings as str."""
    t, v = reply
    if t == "-":
        raise AssertionError(f"error reply: {v!r}")
    if t in "*~>":
        return None if v is None else [plain(x) for x in v]
    if t == "%":
        return {plain(k): plain(x) for k, x in v}
    if t == ":":
        return int(v)
    if t in "$+=":
        return None if v is None else v.decode()
    return v


def pairs(reply):
    """A CLUSTER SHARDS map: a dict in RESP3, a flat list of name/value in RESP2."""
    if isinstance(reply, dict):
        return {text(k): v for k, v in reply.items()}
    return {text(reply[i]): reply[i + 1] for i in range(0, len(reply), 2)}


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def ranges_cover_every_slot_once(ranges):
    ranges = sorted(ranges)
    assert ranges, "no slot ranges"
    assert ranges[0][0] == 0 and ranges[-1][1] == SLOTS - 1, ranges
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert start == end + 1, f"gap or overlap between ranges: {ranges}"


def view_of(port, protocol):
    """What one node says, as {"slots": [(start, end, port)], "shards": {port: [ranges]},
    "nodes": {port: (id, flags, [ranges])}, "myid", "size", "known"}; asserts the shape rules
    that hold within one node's replies."""
    r = Resp(port)
    try:
        if protocol == 3:
            plain(r.call("HELLO", "3"))
        slots_reply = plain(r.call("CLUSTER", "SLOTS"))
        shards_reply = plain(r.call("CLUSTER", "SHARDS"))
        nodes_reply = plain(r.call("CLUSTER", "NODES"))
        myid = plain(r.call("CLUSTER", "MYID"))
        info = plain(r.call("CLUSTER", "INFO"))
    finally:
        r.close()
    slots = []
    for entry in slots_reply:
        assert len(entry) == 3, f"node {port}: CLUSTER SLOTS entry with replicas: {entry}"
        start, end, (host, node_port, node_id, meta) = entry
        assert host == "127.0.0.1" and len(node_id) == 40 and meta in ({}, []), entry
        slots.append((start, end, node_port))
    assert slots == sorted(slots), f"node {port}: CLUSTER SLOTS not in slot order"
    ranges_cover_every_slot_once([(s, e) for s, e, _ in slots])
    for (s1, _, p1), (s2, _, p2) in zip(slots, slots[1:]):
        assert p1 != p2, f"node {port}: adjacent ranges of one master not merged at {s2}: {slots}"

    shards = {}
    for shard in shards_reply:
        shard = pairs(shard)
        members = [pairs(n) for n in shard["nodes"]]
        assert len(members) == 1, f"node {port}: a shard with replicas: {members}"
        node = members[0]
        assert text(node["role"]) == "master", node
        flat = list(shard["slots"])
        node_port = int(node["port"])
        assert node_port not in shards, f"node {port}: {node_port} in two shards"
        shards[node_port] = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]

    nodes = {}
    myself = []
    for line in nodes_reply.splitlines():
        fields = line.split(" ")
        node_id, addr, flags, master_id = fields[0], fields[1], fields[2].split(","), fields[3]
        node_port = int(addr.split("@")[0].rsplit(":", 1)[1])
        assert "master" in flags and "slave" not in flags, line
        assert master_id == "-", line
        if "myself" in flags:
            myself.append(node_id)
        ranges = []
        for part in fields[8:]:
            lo, _, hi = part.partition("-")
            ranges.append((int(lo), int(hi or lo)))
        nodes[node_port] = (node_id, flags, ranges)
    assert myself == [myid], f"node {port}: myself {myself}, CLUSTER MYID {myid}"

    # The three replies give the same masters the same ranges.
    by_master = {}
    for s, e, p in slots:
        by_master.setdefault(p, []).append((s, e))
    for p, (_, _, ranges) in nodes.items():
        assert ranges == by_master.get(p, []), f"node {port}: NODES {p} {ranges} vs SLOTS {by_master.get(p)}"
        assert shards.get(p) == ranges, f"node {port}: SHARDS {p} {shards.get(p)} vs NODES {ranges}"
    assert set(shards) == set(nodes), (shards, nodes)
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    size = int(fields["cluster_size"])
    assert size == len(by_master), f"node {port}: cluster_size {size}, masters with slots {len(by_master)}"
    return {"slots": slots, "nodes": {p: n[0] for p, n in nodes.items()}, "myid": myid,
            "known": int(fields["cluster_known_nodes"])}


def led_ranges(ports):
    """Per node port, the slot ranges of the groups that node leads, as each node's own Raft
    state says (`slotraft-ctl status` on that node)."""
    led = {}
    for port in ports:
        out = subprocess.run([CTL, "--node", f"127.0.0.1:{port + 10000}", "status"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        for line in out.stdout.splitlines():
            cols = line.split()
            if len(cols) > 3 and cols[0].isdigit() and cols[2] == "Leader":
                start, end = cols[1].split("-")
                led.setdefault(port, []).append((int(start), int(end)))
    return led


def merged(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and out[-1][1] + 1 == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def check_one_topology(ports, all_ports, timeout=20):
    """Every live node's replies agree with each other and with who leads what. Leadership can
    move while the replies are gathered (the balancer hands groups back to their preferred
    member), so the whole sample is retaken until it is consistent or `timeout` passes."""
    deadline = time.time() + timeout
    while True:
        try:
            views = {(p, proto): view_of(p, proto) for p in ports for proto in (2, 3)}
            first = next(iter(views.values()))
            for (p, proto), v in views.items():
                assert v["slots"] == first["slots"], f"node {p} RESP{proto}: {v['slots']} vs {first['slots']}"
                assert v["nodes"] == first["nodes"], f"node {p}: node ids differ"
                assert set(v["nodes"]) == set(all_ports), v["nodes"]
                assert v["known"] == len(all_ports)
            led = led_ranges(ports)
            by_master = {}
            for s, e, p in first["slots"]:
                by_master.setdefault(p, []).append((s, e))
            assert {p: merged(r) for p, r in led.items()} == by_master, f"leaders {led} vs topology {by_master}"
            return first
        except AssertionError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def wait_for(what, predicate, timeout=30):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def masters_in_slots(port):
    try:
        r = Resp(port)
    except OSError:
        return set()
    try:
        return {entry[2][1] for entry in plain(r.call("CLUSTER", "SLOTS"))}
    except (OSError, ConnectionError):
        return set()
    finally:
        r.close()


def myid(port):
    r = Resp(port)
    try:
        return plain(r.call("CLUSTER", "MYID"))
    finally:
        r.close()


def test_every_node_shows_one_topology_with_one_role_per_node(cluster):
    view = check_one_topology(cluster, cluster)
    assert {p for _, _, p in view["slots"]} == set(cluster), "every node leads some group"


@pytest.fixture(scope="module")
def failover_cluster():
    c = Cluster(prefix="slotraft-topology-")
    yield c
    c.stop()


CLIENTS = {
    "redis-py-resp2": lambda port: RedisCluster(host="127.0.0.1", port=port, protocol=2, decode_responses=True),
    "redis-py-resp3": lambda port: RedisCluster(host="127.0.0.1", port=port, protocol=3, decode_responses=True),
    "valkey-py": lambda port: ValkeyCluster(host="127.0.0.1", port=port, decode_responses=True),
}


def cluster_wide_checks(rc, primaries, prefix, n=2000):
    """What a cluster client does with commands sent to every primary, as against Redis Cluster."""
    target = rc.PRIMARIES
    assert rc.flushall(target_nodes=target)
    assert {node.port for node in rc.get_primaries()} == set(primaries)
    keys = {f"{prefix}:{i}" for i in range(n)}
    pipe = rc.pipeline()
    for k in sorted(keys):
        pipe.set(k, k)
    assert all(pipe.execute())
    assert set(rc.scan_iter(count=100)) == keys, "SCAN over every primary finds every key"
    assert set(rc.scan_iter(match=f"{prefix}:1*", count=50)) == {k for k in keys if k.startswith(f"{prefix}:1")}
    assert set(rc.keys(target_nodes=target)) == keys
    assert rc.dbsize(target_nodes=target) == n
    assert rc.randomkey(target_nodes=rc.RANDOM) in keys
    info = rc.info("keyspace", target_nodes=target)
    assert sum(section.get("db0", {}).get("keys", 0) for section in info.values()) == n, info
    assert rc.flushall(target_nodes=target)
    assert rc.dbsize(target_nodes=target) == 0
    assert list(rc.scan_iter()) == []
    assert rc.get(f"{prefix}:0") is None


@pytest.mark.parametrize("client", list(CLIENTS))
def test_cluster_wide_commands_before_and_after_a_leader_is_killed(failover_cluster, client):
    c = failover_cluster
    ports = c.ports
    wait_for("every node leading some group", lambda: masters_in_slots(ports[0]) == set(ports))
    myids = {p: myid(p) for p in ports}
    rc = CLIENTS[client](ports[0])
    try:
        cluster_wide_checks(rc, ports, f"{client}:before")
        # kill -9 the node that leads the most groups; its groups fail over to the other two.
        victim = max(range(len(ports)), key=lambda i: len(led_ranges([ports[i]]).get(ports[i], [])))
        c.kill(victim)
        live = c.live_ports()
        wait_for("failover", lambda: all(masters_in_slots(p) == set(live) for p in live))
        check_one_topology(live, ports)
        # The same client object: it finds the new masters by itself (MOVED, connection errors).
        for attempt in range(10):
            try:
                cluster_wide_checks(rc, live, f"{client}:after")
                break
            except (redis.exceptions.ConnectionError, valkey.exceptions.ConnectionError):
                assert attempt < 9
                time.sleep(0.5)
        # Restarted, the node gets its groups back (balancer) under the same node id.
        c.start(victim)
        wait_for("the restarted node leading again", lambda: masters_in_slots(ports[0]) == set(ports))
        check_one_topology(ports, ports)
        assert {p: myid(p) for p in ports} == myids
    finally:
        rc.close()


@pytest.fixture(scope="module")
def four_nodes_three_groups():
    c = Cluster(nodes=4, groups=3, replicas=3, prefix="slotraft-topology4-")
    yield c
    c.stop()


def test_a_node_that_leads_no_group_is_a_master_without_slots(four_nodes_three_groups):
    c = four_nodes_three_groups
    ports = c.ports
    idle = ports[3]
    # Groups 0, 1, 2 prefer nodes 1, 2, 3: node 4 leads nothing once the balancer settled.
    wait_for("leaders on their preferred nodes", lambda: masters_in_slots(ports[0]) == set(ports[:3]))
    view = check_one_topology(ports, ports)
    assert idle not in {p for _, _, p in view["slots"]}
    for proto in (2, 3):
        r = Resp(idle)
        if proto == 3:
            plain(r.call("HELLO", "3"))
        shards = [pairs(s) for s in plain(r.call("CLUSTER", "SHARDS"))]
        mine = [s for s in shards if int(pairs(s["nodes"][0])["port"]) == idle]
        assert len(mine) == 1 and list(mine[0]["slots"]) == [], mine
        line = next(l for l in plain(r.call("CLUSTER", "NODES")).splitlines() if f":{idle}@" in l)
        assert line.split(" ")[2] == "myself,master" and len(line.split(" ")) == 8, line
        r.close()
    # It answers cluster-wide commands for the (no) slots it is master of, and sends keyed
    # commands to the leader of the key's group.
    rc = RedisCluster(host="127.0.0.1", port=ports[0], decode_responses=True)
    for i in range(300):
        rc.set(f"k{i}", i)
    r = redis.Redis(port=idle, decode_responses=True)
    assert r.ping()
    assert r.dbsize() == 0
    assert r.keys("*") == []
    assert r.scan(0) == (0, [])
    assert r.randomkey() is None
    assert r.flushall() is True
    with pytest.raises(redis.exceptions.MovedError) as moved:
        r.set("foo", "bar")
    assert moved.value.port == view_by_slot(view, 12182)
    assert rc.dbsize(target_nodes=rc.PRIMARIES) == 300, "FLUSHALL on a node without slots removed nothing"
    # Clients seeded from the idle node, or from a node that hosts only two of the groups,
    # find every primary and every key.
    for seed in (idle, ports[0]):
        client = RedisCluster(host="127.0.0.1", port=seed, decode_responses=True)
        assert {n.port for n in client.get_primaries()} == set(ports[:3])
        assert set(client.scan_iter()) == {f"k{i}" for i in range(300)}
        client.close()
    r.close()
    rc.close()


def view_by_slot(view, slot):
    return next(p for s, e, p in view["slots"] if s <= slot <= e)


def test_a_node_learns_new_leaders_of_groups_it_does_not_host(four_nodes_three_groups):
    """Node 1 does not host group 1 (members 2, 3, 4). When group 1's leader (node 2) is killed,
    node 1 must show group 1's new leader, as the group's members do, and flag node 2 `fail?`."""
    c = four_nodes_three_groups
    ports = c.ports
    wait_for("leaders on their preferred nodes", lambda: masters_in_slots(ports[0]) == set(ports[:3]))
    c.kill(1)
    live = c.live_ports()
    try:
        wait_for("group 1 failed over, as node 1 sees it",
                 lambda: ports[1] not in masters_in_slots(ports[0]) and len(masters_in_slots(ports[0])) >= 2)
        check_one_topology(live, ports)

        def flagged_failed():
            r = Resp(ports[0])
            lines = plain(r.call("CLUSTER", "NODES")).splitlines()
            r.close()
            line = next(l for l in lines if f":{ports[1]}@" in l)
            return "fail?" in line.split(" ")[2] and line.split(" ")[7] == "disconnected"

        wait_for("node 2 flagged fail?", flagged_failed, timeout=15)
    finally:
        c.start(1)
        c.wait_healthy()
