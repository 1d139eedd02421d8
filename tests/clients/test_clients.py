"""Unmodified Redis Cluster clients against a real 3-node slotraft cluster.

Each test writes keys spread over all 16384 slots (so every slot group and every leader is
used), reads them back through the client, and asserts every acknowledged write is there.
"""
import os
import subprocess
import time

import pytest
import redis
from redis.cluster import RedisCluster

from conftest import SERVER

KEYS = 1000


def keys_over_all_slots(prefix):
    # Hash tags {0}..{N} spread keys over slots; check the spread below.
    return [f"{prefix}:{{{i}}}" for i in range(KEYS)]


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_cluster_client_writes_and_reads_1000_keys(cluster, protocol):
    rc = RedisCluster(host="127.0.0.1", port=cluster[0], protocol=protocol, decode_responses=True)
    keys = keys_over_all_slots(f"py{protocol}")
    slots = {rc.keyslot(k) for k in keys}
    groups = {s * 16 // 16384 for s in slots}
    assert len(groups) == 16, "keys reach every slot group"
    for k in keys:
        assert rc.set(k, f"value-of-{k}") is True
    for k in keys:
        assert rc.get(k) == f"value-of-{k}"
    assert rc.incr(f"py{protocol}:counter") == 1
    assert rc.mget([f"py{protocol}:{{t}}a", f"py{protocol}:{{t}}b"]) == [None, None]
    # Every node leads some group, so every node is a primary (test_topology.py checks more).
    assert {n.port for n in rc.get_primaries()} == set(cluster)
    assert rc.get_replicas() == []
    rc.close()


def test_redis_cli_cluster_mode_writes_and_reads_1000_keys(cluster):
    keys = keys_over_all_slots("cli")
    script = "".join(f"SET {k} v-{k}\n" for k in keys)
    out = subprocess.run(["redis-cli", "-c", "-p", str(cluster[1])], input=script, capture_output=True, text=True, timeout=120)
    replies = [line for line in out.stdout.splitlines() if not line.startswith("-> Redirected")]
    assert replies.count("OK") == KEYS, out.stdout[-2000:] + out.stderr
    script = "".join(f"GET {k}\n" for k in keys)
    out = subprocess.run(["redis-cli", "-c", "-p", str(cluster[2])], input=script, capture_output=True, text=True, timeout=120)
    values = [line for line in out.stdout.splitlines() if not line.startswith("-> Redirected")]
    assert values == [f"v-{k}" for k in keys]


def test_follower_answers_moved_to_the_leader(cluster):
    moved = 0
    for port in cluster:
        r = redis.Redis(port=port)
        try:
            r.set("foo", "bar")
        except redis.exceptions.MovedError as e:
            assert e.slot_id == 12182, e
            assert e.host == "127.0.0.1" and e.port in cluster, e
            moved += 1
    assert moved == 2, "exactly the two followers of foo's group redirect"


def transfer_every_leader(ports):
    """Moves the leadership of every slot group to the next node, as an operator would with
    `slotraft-ctl transfer-leader`; clients see `-MOVED` afterwards."""
    ctl = os.path.join(os.path.dirname(SERVER), "slotraft-ctl")
    slots = redis.Redis(port=ports[0]).execute_command("CLUSTER SLOTS")
    moved = 0
    for entry in slots:
        start, end, leader_port = entry[0], entry[1], entry[2][1]
        leader = ports.index(leader_port) + 1
        target = leader % len(ports) + 1
        # A master's adjacent groups are one range: 16 groups of 1024 slots each.
        for group in range(start // 1024, end // 1024 + 1):
            out = subprocess.run([ctl, "--node", f"127.0.0.1:{leader_port + 10000}", "transfer-leader",
                                  "--group", str(group), "--to", str(target)],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stdout + out.stderr
            moved += 1
    return moved


def family_round(rc, base, round_no, model):
    """One round of every command family on entity `base`; `model` tracks what must be there."""
    k = lambda name: f"{base}:{name}"  # all of one entity's keys share a slot via the hash tag
    assert rc.set(k("s"), f"v{round_no}") is True
    model[k("s")] = ("string", f"v{round_no}")
    assert rc.incr(k("n")) == round_no
    model[k("n")] = ("string", str(round_no))
    rc.append(k("log"), f"{round_no};")
    model[k("log")] = ("string", "".join(f"{i};" for i in range(1, round_no + 1)))
    rc.hset(k("h"), mapping={f"f{round_no}": round_no})
    assert rc.hincrby(k("h"), "count", 1) == round_no
    model[k("h")] = ("hash", {**{f"f{i}": str(i) for i in range(1, round_no + 1)}, "count": str(round_no)})
    assert rc.rpush(k("l"), f"e{round_no}") == round_no
    model[k("l")] = ("list", [f"e{i}" for i in range(1, round_no + 1)])
    assert rc.sadd(k("set"), f"m{round_no}", "common") in (1, 2)
    model[k("set")] = ("set", {"common", *{f"m{i}" for i in range(1, round_no + 1)}})
    assert rc.zadd(k("z"), {f"m{round_no}": round_no}) == 1
    assert rc.zincrby(k("z"), 0.5, "m1") == 1 + 0.5 * round_no
    model[k("z")] = ("zset", {**{f"m{i}": float(i) for i in range(2, round_no + 1)}, "m1": 1 + 0.5 * round_no})
    rc.expire(k("s"), 3600)


def check_model(rc, model):
    for key, (kind, want) in model.items():
        assert rc.type(key) == kind, key
        if kind == "string":
            assert rc.get(key) == want, key
        elif kind == "hash":
            assert rc.hgetall(key) == want, key
        elif kind == "list":
            assert rc.lrange(key, 0, -1) == want, key
        elif kind == "set":
            assert rc.smembers(key) == want, key
        elif kind == "zset":
            assert dict(rc.zrange(key, 0, -1, withscores=True)) == want, key


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_every_family_across_a_leader_change(cluster, protocol):
    """Every command family over all slot groups, with every group's leadership moved in the
    middle: the client follows -MOVED, and at the end nothing is lost and nothing doubled (the
    counters, lists and appends would show a retried write)."""
    rc = RedisCluster(host="127.0.0.1", port=cluster[0], protocol=protocol, decode_responses=True)
    entities = [f"fam{protocol}:{{{i}}}" for i in range(64)]
    assert len({rc.keyslot(e) * 16 // 16384 for e in entities}) == 16
    model = {}
    for round_no in (1, 2):
        for e in entities:
            family_round(rc, e, round_no, model)
    assert transfer_every_leader(cluster) == 16
    for round_no in (3, 4):
        for e in entities:
            family_round(rc, e, round_no, model)
    check_model(rc, model)
    # Emptying a collection removes its key, through the cluster too.
    e = entities[0]
    rc.delete(f"{e}:l")
    rc.rpush(f"{e}:l", "only")
    assert rc.lpop(f"{e}:l") == "only"
    assert rc.exists(f"{e}:l") == 0
    rc.close()


def wait_leaders_settled(ports, timeout=60):
    """Waits until every node leads a share of the groups and `CLUSTER SLOTS` has not changed
    for longer than the leader balancer's period (2 s), after earlier tests moved leaders.
    redis-benchmark reads the topology once: a master it skipped for having no slots that gains
    some while it runs makes it exit ("could not find node with ID ...")."""
    deadline = time.time() + timeout
    last, since = None, time.time()
    while time.time() < deadline:
        view = redis.Redis(port=ports[0]).execute_command("CLUSTER SLOTS")
        masters = {entry[2][1] for entry in view}
        if view != last:
            last, since = view, time.time()
        elif masters == set(ports) and time.time() - since > 3:
            return
        time.sleep(0.2)
    raise AssertionError(f"leaders did not settle: {last}")


def test_redis_benchmark_cluster_mode_completes_without_errors(cluster):
    wait_leaders_settled(cluster)
    out = subprocess.run(["redis-benchmark", "--cluster", "-p", str(cluster[0]), "-n", "2000", "-c", "10",
                          "-t", "set,get,incr,lpush,sadd,hset,zadd", "-q"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout + out.stderr
    for test in ["SET", "GET", "INCR", "LPUSH", "SADD", "HSET", "ZADD"]:
        assert f"{test}:" in text, text[-3000:]
    assert "error" not in text.lower(), text[-3000:]


def test_client_setinfo_as_redis_7_2_serves_it(cluster):
    """redis-py sends CLIENT SETINFO LIB-NAME/LIB-VER on every new connection (Redis 7.2+);
    slotraft accepts them, shows them in CLIENT INFO/LIST, and rejects bad input with Redis'
    texts."""
    r = redis.Redis(port=cluster[0], decode_responses=True)
    info = r.client_info()  # redis-py parses the line into a dict
    # Set by redis-py itself during its connection handshake.
    assert info["lib-name"].startswith("redis-py"), info
    assert info["lib-ver"] == redis.__version__, info
    assert r.execute_command("CLIENT SETINFO", "lib-name", "myapp") in (True, "OK")
    assert r.client_info()["lib-name"] == "myapp"
    assert any(c["lib-name"] == "myapp" and str(c["id"]) == str(info["id"]) for c in r.client_list())
    assert r.execute_command("CLIENT SETINFO", "LIB-VER", "") in (True, "OK")
    assert r.client_info()["lib-ver"] == ""
    for args, text in [
        (("FOO", "x"), "Unrecognized option 'FOO'"),
        (("LIB-NAME", "has space"), "LIB-NAME cannot contain spaces, newlines or special characters."),
        (("LIB-NAME",), "wrong number of arguments for 'client|setinfo' command"),
    ]:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("CLIENT SETINFO", *args)
        assert str(e.value) == text
    # Inside MULTI it is queued (arity checked) and runs at EXEC, as in Redis 7.2.
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("CLIENT SETINFO", "LIB-NAME", "in-multi")
    pipe.execute_command("CLIENT INFO")
    replies = pipe.execute()
    assert replies[0] in (True, "OK")
    assert replies[1]["lib-name"] == "in-multi"
