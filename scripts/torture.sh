#!/usr/bin/env bash
# The torture suite (Jepsen-style fault injection, see README "Torture suite").
#
#   scripts/torture.sh ci            short run of each fault family + the unsafe build must fail
#   scripts/torture.sh soak [SECS]   long run of each family (default 600 s each) + mixed faults
#
# Needs root (network namespaces), iproute2 and nftables. Output: target/torture/{ci,soak,unsafe}
# (override with TORTURE_OUT): history.jsonl, report.md and report.json per family, summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-ci}
out=${TORTURE_OUT:-target/torture}
bin=target/release
# Workloads: registers (GET/SET/INCR), set (SET+MGET), sadd (SADD/SMEMBERS), list (RPUSH/LRANGE).
workloads=${TORTURE_WORKLOADS:-register,set,sadd,list}

cargo build --release --bin slotraft-server --bin slotraft-torture

case "$mode" in
ci)
    # 1. The checker can fail: a server that acknowledges before commit (test-only cargo
    #    feature) must be caught losing acknowledged writes when its leader is cut off.
    #    The feature build shares every dependency; only the slotraft crate recompiles, and
    #    cargo keeps both variants, so the plain build below is a no-op that restores the
    #    safe binary.
    cargo build --release --features unsafe-ack --bin slotraft-server
    cp "$bin/slotraft-server" "$bin/slotraft-server-unsafe"
    cargo build --release --bin slotraft-server
    if grep -qa "acknowledges writes before they commit" "$bin/slotraft-server"; then
        echo "target/release/slotraft-server is the unsafe-ack build" >&2
        exit 1
    fi
    "$bin/slotraft-torture" run --server "$bin/slotraft-server-unsafe" \
        --faults partition-leader --duration 14 --quiet 2 --hold 8 \
        --workloads "$workloads" --expect-lost-writes --out "$out/unsafe"
    echo "unsafe-ack build: lost acknowledged writes found, as it must"

    # 2. Each fault family, briefly; any anomaly fails.
    "$bin/slotraft-torture" suite --server "$bin/slotraft-server" \
        --families crash,pause,partition,transfer --duration "${TORTURE_SECS:-25}" --quiet 2 --hold 4 \
        --workloads "$workloads" --out "$out/ci"
    ;;
soak)
    secs=${2:-600}
    "$bin/slotraft-torture" suite --server "$bin/slotraft-server" \
        --families crash,pause,partition,transfer,mixed --duration "$secs" \
        --workloads "$workloads" --out "$out/soak"
    echo "report: $out/soak/summary.md"
    ;;
*)
    echo "usage: $0 ci | soak [SECONDS]" >&2
    exit 2
    ;;
esac
