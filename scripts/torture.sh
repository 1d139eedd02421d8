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

# The same target selection as scripts/test-all.sh (--all-targets): with cargo's feature
# resolver 2, a build that includes a test target unifies the dev-dependencies' features into
# the shared dependencies, and one that does not compiles every dependency a second time with
# other features (about 4 minutes on a 2-core CI machine). After test-all.sh this is a no-op.
cargo build --release --all-targets

case "$mode" in
ci)
    # 1. The checker can fail: a server that acknowledges before commit (test-only cargo
    #    feature) must be caught losing acknowledged writes when its leader is cut off.
    #    `--test resp_protocol` (a small test target) keeps the dependencies' features those
    #    of the build above, so only the slotraft crate recompiles; cargo keeps both
    #    variants, so the second build is a no-op that restores the safe binary.
    cargo build --release --features unsafe-ack --bin slotraft-server --test resp_protocol
    cp "$bin/slotraft-server" "$bin/slotraft-server-unsafe"
    cargo build --release --bin slotraft-server --test resp_protocol
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
        --families crash,pause,partition,transfer,wipe,membership --duration "${TORTURE_SECS:-25}" --quiet 2 --hold 4 \
        --workloads "$workloads" --out "$out/ci"
    ;;
soak)
    secs=${2:-600}
    "$bin/slotraft-torture" suite --server "$bin/slotraft-server" \
        --families crash,pause,partition,transfer,wipe,membership,mixed --duration "$secs" \
        --workloads "$workloads" --out "$out/soak"
    echo "report: $out/soak/summary.md"
    ;;
*)
    echo "usage: $0 ci | soak [SECONDS]" >&2
    exit 2
    ;;
esac
