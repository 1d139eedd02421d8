#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this). Installs what it needs.
#
#   1. tools: redis-tools (redis-cli), strace, python packages (redis-py, pytest)
#   2. cargo fmt --check, cargo clippy --all-targets -D warnings
#   3. one release build shared by every stage below
#   4. cargo test --release: unit tests and the multi-process integration tests
#   5. pytest tests/clients: redis-py RedisCluster (RESP2+RESP3), valkey-py, redis-cli -c, the
#      Debian clients (node-redis, ruby-redis, phpredis, redisc) and one topology on every node
#   5b. tests/docker/compose-test.sh: the docker-compose cluster under kill, partition and
#       rolling restart (needs Docker and docker-compose; fails, never skips, without them)
#   6. scripts/torture.sh ci: fault injection against real processes (unsafe build must fail)
#   7. model/check.sh: the TLA+ model with TLC (installs TLC itself)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s ====\n' "$*"; }

step "installing test tools"
need_apt=()
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
command -v strace >/dev/null || need_apt+=(strace)
# redis-server 7.0 is the reference of the differential test (tests/clients/test_redis_parity.py).
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v ip >/dev/null || need_apt+=(iproute2)       # torture suite: network namespaces
command -v nft >/dev/null || need_apt+=(nftables)      # torture suite: partitions
# The Redis Cluster clients Debian ships (tests/clients/test_debian_clients.py).
for pkg in nodejs node-redis ruby ruby-redis php-cli php-redis golang-go \
           golang-github-mna-redisc-dev golang-github-gomodule-redigo-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore redis valkey pytest

step "cargo fmt --check"
# Not --all: that would also check vendor/sled, which keeps its upstream formatting.
cargo fmt -- --check

step "cargo clippy"
cargo clippy --release --all-targets -- -D warnings

step "cargo build --release"
cargo build --release --all-targets

step "cargo test --release"
cargo test --release -- --test-threads 2

step "client compatibility (redis-py, valkey-py, redis-cli, node-redis, ruby-redis, phpredis, redisc)"
SLOTRAFT_SERVER="$PWD/target/release/slotraft-server" python3 -m pytest -q tests/clients

step "docker-compose cluster (kill, partition, rolling restart, a node joining and one removed)"
tests/docker/compose-test.sh
step "torture suite (faults, linearizability; the unsafe-ack build must fail)"
scripts/torture.sh ci

if [ -x model/check.sh ]; then
    step "TLA+ model (TLC)"
    model/check.sh
else
    echo "model/check.sh missing" >&2
    exit 1
fi

step "all tests passed"
