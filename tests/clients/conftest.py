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


class Cluster:
    """Real slotraft-server processes on 127.0.0.1, each with its own data directory; nodes
    can be killed (-9) and started again with the same command line and data."""

    def __init__(self, nodes=3, groups=None, replicas=None, prefix="slotraft-clients-"):
        assert os.path.exists(SERVER), f"{SERVER} missing: build with cargo build --release first"
        assert shutil.which("redis-cli"), "redis-cli is required (the README's test command installs redis-tools)"
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.ports = [free_port() for _ in range(nodes)]
        initial = ",".join(f"{i + 1}=127.0.0.1:{p}@{p + 10000}" for i, p in enumerate(self.ports))
        self.cmds = []
        for i, p in enumerate(self.ports):
            cmd = [SERVER, "--node-id", str(i + 1), "--port", str(p), "--dir", os.path.join(self.tmp, f"node{i + 1}"),
                   "--initial-cluster", initial, "--election-timeout-ms", "500", "--heartbeat-ms", "100"]
            if groups is not None:
                cmd += ["--groups", str(groups)]
            if replicas is not None:
                cmd += ["--replicas", str(replicas)]
            self.cmds.append(cmd)
        self.procs = [None] * nodes
        for i in range(nodes):
            self.start(i)
        try:
            self.wait_healthy()
        except BaseException:
            # A fixture that fails to set up is never torn down: stop the processes here.
            self.stop()
            raise

    def start(self, i):
        log = open(os.path.join(self.tmp, f"node{i + 1}.log"), "a")
        self.procs[i] = subprocess.Popen(self.cmds[i], stdout=subprocess.DEVNULL, stderr=log)

    def kill(self, i):
        self.procs[i].kill()
        self.procs[i].wait()
        self.procs[i] = None

    def live_ports(self):
        return [p for p, proc in zip(self.ports, self.procs) if proc is not None]

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        while not all(cluster_ok(p) for p in self.live_ports()):
            assert time.time() < deadline, "cluster did not become healthy"
            time.sleep(0.2)

    def stop(self):
        for i, proc in enumerate(self.procs):
            if proc is not None:
                self.kill(i)
        if os.environ.get("SLOTRAFT_KEEP_LOGS"):
            print(f"node logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster():
    c = Cluster()
    yield c.ports
    c.stop()
