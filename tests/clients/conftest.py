"""Starts a real 3-node slotraft cluster (release binary) for the client tests."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.environ.get("SLOTRAFT_SERVER", os.path.join(ROOT, "target", "release", "slotraft-server"))


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000:
            with socket.socket() as g:
                try:
                    g.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    continue


def cluster_ok(port):
    try:
        out = subprocess.run(["redis-cli", "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5).stdout
        return "cluster_state:ok" in out
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="session")
def cluster():
    assert os.path.exists(SERVER), f"{SERVER} missing: build with cargo build --release first"
    assert shutil.which("redis-cli"), "redis-cli is required (the README's test command installs redis-tools)"
    tmp = tempfile.mkdtemp(prefix="slotraft-clients-")
    ports = [free_port() for _ in range(3)]
    initial = ",".join(f"{i + 1}=127.0.0.1:{p}@{p + 10000}" for i, p in enumerate(ports))
    procs = []
    for i, p in enumerate(ports):
        log = open(os.path.join(tmp, f"node{i + 1}.log"), "w")
        procs.append(subprocess.Popen(
            [SERVER, "--node-id", str(i + 1), "--port", str(p), "--dir", os.path.join(tmp, f"node{i + 1}"),
             "--initial-cluster", initial, "--election-timeout-ms", "500", "--heartbeat-ms", "100"],
            stdout=subprocess.DEVNULL, stderr=log))
    deadline = time.time() + 30
    while not all(cluster_ok(p) for p in ports):
        assert time.time() < deadline, "cluster did not become healthy"
        time.sleep(0.2)
    yield ports
    for proc in procs:
        proc.kill()
        proc.wait()
    if os.environ.get("SLOTRAFT_KEEP_LOGS"):
        print(f"node logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
