"""The Redis Cluster clients Debian ships, unmodified, against a real 3-node slotraft cluster.

One script per client under tests/clients/debian/, each run as its own process with the seed
node as HOST:PORT (rotating over the three nodes):

    node_redis_cluster.js   node-redis 4.5 createCluster      (Debian: nodejs, node-redis)
    ruby_redis_cluster.rb   redis-rb 4.8 Redis.new(cluster:)  (Debian: ruby, ruby-redis)
    phpredis_cluster.php    phpredis 5.3 RedisCluster         (Debian: php-cli, php-redis)
    redisc_cluster.go       redisc 1.1 over redigo 1.8        (Debian: golang-go,
                            golang-github-mna-redisc-dev, golang-github-gomodule-redigo-dev)

Every script, through the client only:
  0. FLUSHALL on every master the client discovered, then asserts DBSIZE summed over them is 0
     (so each script is self-contained);
  1. SET lang:{0}..lang:{199} (200 keys, hash tags spread them over as many slots) to distinct
     values, then GETs every one back and asserts equality;
  2. HSET of a few fields on profile:{42}, then HGETALL, asserting the exact content;
  3. SET {user1}:a, {user1}:b, {user1}:c, then one MGET of the three (one slot), asserting it;
  4. eleven commands on the {pipe} slot (SET, SET, INCR, INCRBY, GET, APPEND, RPUSH, LRANGE,
     HSET, EXISTS, GET) batched, asserting every reply: node-redis multi().execAsPipeline(),
     ruby pipelined, redigo Send/Flush/Receive on a redisc connection bound to the slot, and
     for phpredis MULTI/EXEC, because RedisCluster has no pipeline mode (5.3's multi() ignores
     its mode argument, so multi(Redis::PIPELINE) would be MULTI/EXEC anyway);
  5. DBSIZE summed over every master the client discovered, asserted equal to the number of
     keys the script wrote (208). Masters come from: node-redis getMasters() (CLUSTER NODES),
     ruby-redis dbsize, which sums over the nodes of CLUSTER SLOTS not flagged slave in
     CLUSTER NODES, phpredis _masters() (CLUSTER SLOTS), Go: CLUSTER SLOTS parsed by the script;
  6. prints `OK <client>` as its last line and exits 0; any failed check prints what failed and
     exits non-zero.

A missing tool or library fails the test with the Debian package to install; nothing skips.
"""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "debian")
TIMEOUT = 120
GOPATH = "/usr/share/gocode"
NODE_PATH = os.environ.get("NODE_PATH", "/usr/share/nodejs")


def run(cmd, env=None, timeout=TIMEOUT):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def need(ok, packages, what):
    if not ok:
        pytest.fail(f"{what} missing: install the Debian package(s) {packages} "
                    f"(apt-get install {packages})", pytrace=False)


def node_cmd(seed, _tmp):
    need(shutil.which("node"), "nodejs", "node")
    env = {"NODE_PATH": NODE_PATH}
    probe = run(["node", "-e", "require('redis').createCluster"], env=env, timeout=30)
    need(probe.returncode == 0, "node-redis", f"node module 'redis' under NODE_PATH={NODE_PATH}")
    return ["node", os.path.join(SCRIPTS, "node_redis_cluster.js"), seed], env


def ruby_cmd(seed, _tmp):
    need(shutil.which("ruby"), "ruby", "ruby")
    probe = run(["ruby", "-e", "require 'redis'; Redis::Cluster"], timeout=30)
    need(probe.returncode == 0, "ruby-redis", "ruby library 'redis' (with Redis::Cluster)")
    return ["ruby", os.path.join(SCRIPTS, "ruby_redis_cluster.rb"), seed], {}


def php_cmd(seed, _tmp):
    need(shutil.which("php"), "php-cli", "php")
    probe = run(["php", "-r", "exit(class_exists('RedisCluster') ? 0 : 1);"], timeout=30)
    need(probe.returncode == 0, "php-redis", "PHP extension redis (class RedisCluster)")
    return ["php", os.path.join(SCRIPTS, "phpredis_cluster.php"), seed], {}


_go_binary = {}


def go_cmd(seed, tmp):
    need(shutil.which("go"), "golang-go", "go")
    for pkg, deb in [("github.com/mna/redisc", "golang-github-mna-redisc-dev"),
                     ("github.com/gomodule/redigo/redis", "golang-github-gomodule-redigo-dev")]:
        need(os.path.isdir(os.path.join(GOPATH, "src", pkg)), deb, f"Go package {pkg} under {GOPATH}")
    if "path" not in _go_binary:  # build once per session
        out = os.path.join(str(tmp), "redisc_cluster")
        env = {"GOPATH": GOPATH, "GO111MODULE": "off"}
        if not os.environ.get("GOCACHE") and not os.environ.get("HOME"):
            env["GOCACHE"] = os.path.join(str(tmp), "gocache")
        build = run(["go", "build", "-o", out, os.path.join(SCRIPTS, "redisc_cluster.go")], env=env)
        assert build.returncode == 0, f"go build failed:\n{build.stdout}\n{build.stderr}"
        _go_binary["path"] = out
    return [_go_binary["path"], seed], {}


CLIENTS = {
    "node-redis": node_cmd,
    "ruby-redis": ruby_cmd,
    "phpredis": php_cmd,
    "redisc": go_cmd,
}


@pytest.fixture(scope="session")
def go_build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("redisc-build")


@pytest.mark.parametrize("client", list(CLIENTS))
def test_debian_cluster_client(cluster, go_build_dir, client):
    seed = f"127.0.0.1:{cluster[list(CLIENTS).index(client) % len(cluster)]}"
    cmd, env = CLIENTS[client](seed, go_build_dir)
    try:
        out = run(cmd, env=env)
    except subprocess.TimeoutExpired as e:
        text = [s.decode(errors="replace") if isinstance(s, bytes) else s for s in (e.stdout, e.stderr)]
        pytest.fail(f"{client} timed out after {TIMEOUT}s\nstdout:\n{text[0]}\nstderr:\n{text[1]}", pytrace=False)
    shown = f"{' '.join(cmd)}\nexit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    lines = out.stdout.strip().splitlines()
    assert out.returncode == 0, shown
    assert lines and lines[-1] == f"OK {client}", shown
