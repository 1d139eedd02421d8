"""`requirepass`: the same AUTH / HELLO AUTH / NOAUTH sequence against redis-server 7.0.15 and
slotraft, both started with a password; every reply must match."""
import os
import shutil
import subprocess
import tempfile
import time

import redis

from conftest import SERVER, free_port
from test_redis_parity import Resp

SEQUENCE = [
    ["GET", "k"],
    ["PING"],
    ["MULTI"],
    ["HELLO", "3"],
    ["AUTH", "wrong"],
    ["AUTH", "default", "wrong"],
    ["AUTH", "nobody", "secret"],
    ["HELLO", "2", "AUTH", "default", "wrong"],
    ["AUTH", "secret"],
    ["SET", "k", "v"],
    ["GET", "k"],
    ["CONFIG", "GET", "requirepass"],
]


def start(cmd, port):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            redis.Redis(port=port, password="secret").set("__probe", "1")
            return p
        except (redis.exceptions.ConnectionError, redis.exceptions.ResponseError):
            time.sleep(0.1)
    p.kill()
    raise AssertionError(f"{cmd[0]} did not start")


def test_requirepass_behaves_like_redis():
    assert os.path.exists(SERVER)
    tmp = tempfile.mkdtemp(prefix="slotraft-auth-")
    rport, sport = free_port(), free_port()
    procs = [
        start([shutil.which("redis-server"), "--port", str(rport), "--save", "", "--appendonly", "no",
               "--requirepass", "secret", "--dir", tmp], rport),
        start([SERVER, "--port", str(sport), "--dir", os.path.join(tmp, "s"), "--requirepass", "secret"], sport),
    ]
    try:
        conns = [Resp(rport), Resp(sport)]
        for args in SEQUENCE:
            want, got = (c.call(*args) for c in conns)
            assert want == got, f"{args}: redis {want} slotraft {got}"
        # HELLO with AUTH authenticates and switches protocol in one step.
        fresh = [Resp(rport), Resp(sport)]
        want, got = (c.call("HELLO", "3", "AUTH", "default", "secret")[0] for c in fresh)
        assert want == got == "%"
        # CONFIG SET requirepass changes it for new connections.
        assert conns[1].call("CONFIG", "SET", "requirepass", "other") == ("+", b"OK")
        late = Resp(sport)
        assert late.call("GET", "k")[1].startswith(b"NOAUTH")
        assert late.call("AUTH", "other") == ("+", b"OK")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
