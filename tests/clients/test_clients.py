"""Unmodified Redis Cluster clients against a real 3-node slotraft cluster.

Each test writes keys spread over all 16384 slots (so every slot group and every leader is
used), reads them back through the client, and asserts every acknowledged write is there.
"""
import subprocess

import pytest
import redis
from redis.cluster import RedisCluster

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
    # Every slot group's leader appears as its shard's master; leaders spread over all nodes.
    # (redis-py's get_primaries() cannot show this: a node that leads some groups and follows
    # others is recorded with whichever role it was seen in last.)
    masters = {entry[2][1] for entry in redis.Redis(port=cluster[0]).execute_command("CLUSTER SLOTS")}
    assert masters == set(cluster), masters
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
