#!/usr/bin/env bash
# Builds the slotraft container image from what is on this machine — no registry, nothing
# pulled: an image FROM scratch holding the host's release binaries (slotraft-server,
# slotraft-ctl) and the shared libraries they load, as `ldd` lists them.
#
#   scripts/docker-build.sh [--no-cargo] [--tag TAG]
#
#   --no-cargo   use target/release as it is (the test suite has built it already)
#   --tag TAG    image name [default: $SLOTRAFT_IMAGE or slotraft:latest]
#
# Then: docker-compose up -d   (see docker-compose.yml and the README)
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${SLOTRAFT_IMAGE:-slotraft:latest}
run_cargo=1
while [ $# -gt 0 ]; do
    case $1 in
        --no-cargo) run_cargo=0 ;;
        --tag) tag=$2; shift ;;
        *) echo "usage: $0 [--no-cargo] [--tag TAG]" >&2; exit 2 ;;
    esac
    shift
done

command -v docker >/dev/null || { echo "docker-build: docker is not installed" >&2; exit 1; }
if [ "$run_cargo" = 1 ]; then
    cargo build --release --bin slotraft-server --bin slotraft-ctl
fi
bins=(target/release/slotraft-server target/release/slotraft-ctl)
for b in "${bins[@]}"; do
    [ -x "$b" ] || { echo "docker-build: $b is missing (cargo build --release)" >&2; exit 1; }
done

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc" "$ctx/data"
cp "${bins[@]}" "$root/usr/local/bin/"
# Every library the dynamic loader will look for, at the path ldd resolved it to (copying the
# file a symlink points at), plus the loader itself.
for lib in $(ldd "${bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
# glibc's resolver: /etc/hosts first, then the container DNS (which knows the service names).
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
printf 'root:x:0:0::/:/nonexistent\nslotraft:x:10001:10001::/data:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nslotraft:x:10001:\n' >"$root/etc/group"
cp docker/Dockerfile "$ctx/Dockerfile"

docker build --quiet --tag "$tag" "$ctx" >/dev/null
echo "built image $tag ($(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1/1e6}'))"
