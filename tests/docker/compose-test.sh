#!/usr/bin/env bash
# The docker-compose test (part of scripts/test-all.sh): a real three-container cluster from
# the top-level docker-compose.yml, driven by a real cluster client on the host. The scenario
# (kill, partition, rolling restart, then node4 of the `join` profile joins and node1 is
# removed) is in compose_test.py; this wrapper
#   - fails (never skips) when Docker or docker-compose is missing or the engine is down,
#   - builds the images from target/release as the suite already built it (no second build,
#     no registry): slotraft itself, and a test-only image with redis-cli for a client inside
#     the compose network,
#   - gives the run its own compose project name, image tags and free host ports, so runs do
#     not collide with each other or with a user's cluster,
#   - tears everything down (containers, networks, volumes, images) on any exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
    echo "compose-test: FAILED: $*" >&2
    exit 1
}
command -v docker >/dev/null || fail "docker is not installed (this test needs a Docker engine; it does not skip)"
command -v docker-compose >/dev/null || fail "docker-compose is not installed (apt-get install docker-compose)"
docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable (docker info failed)"
command -v redis-cli >/dev/null || fail "redis-cli is not installed (apt-get install redis-tools)"

project="slotraft-ci-$$-$(date +%s)"
export COMPOSE_PROJECT_NAME=$project
export SLOTRAFT_IMAGE="slotraft:$project"
client_image="slotraft-test-client:$project"
read -r SLOTRAFT_PORT1 SLOTRAFT_PORT2 SLOTRAFT_PORT3 SLOTRAFT_PORT4 < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
')
export SLOTRAFT_PORT1 SLOTRAFT_PORT2 SLOTRAFT_PORT3 SLOTRAFT_PORT4

ctx=$(mktemp -d)
cleanup() {
    status=$?
    if [ $status -ne 0 ]; then
        echo "---- container logs (last 30 lines each) ----" >&2
        for s in node1 node2 node3 node4; do
            id=$(docker-compose --profile join ps -q "$s" 2>/dev/null || true)
            [ -n "$id" ] && { echo "-- $s --" >&2; docker logs --tail 30 "$id" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; }
        done
    fi
    # --profile join: node4 (started by the test) is removed too, with its volume.
    docker-compose --profile join down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true
    docker rmi -f "$SLOTRAFT_IMAGE" "$client_image" >/dev/null 2>&1 || true
    rm -rf "$ctx"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/docker-build.sh --no-cargo --tag "$SLOTRAFT_IMAGE"

# redis-cli in a scratch image, the same way: the binary and the libraries ldd lists.
mkdir -p "$ctx/rootfs/usr/bin"
cp "$(command -v redis-cli)" "$ctx/rootfs/usr/bin/redis-cli"
for lib in $(ldd "$(command -v redis-cli)" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
done
printf 'FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/usr/bin/redis-cli"]\n' >"$ctx/Dockerfile"
docker build --quiet --tag "$client_image" "$ctx" >/dev/null 2>&1 || fail "cannot build the redis-cli client image"

docker-compose up -d    # node1..node3; node4 (profile `join`) is started by the test
SLOTRAFT_CLIENT_IMAGE=$client_image python3 tests/docker/compose_test.py
