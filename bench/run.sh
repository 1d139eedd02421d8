#!/usr/bin/env bash
# bench/run.sh: slotraft against Redis on one machine, with one client (slotraft-bench).
#
#   slotraft     3-node slotraft cluster, client routes by CLUSTER SLOTS and follows -MOVED
#   redis+WAIT   Redis primary + 2 replicas, appendonly yes, appendfsync always,
#                every SET followed by WAIT 2 100 (pipelined behind it)
#   redis-plain  one Redis, no persistence (save '', appendonly no)
#
# For each workload (set, get) and concurrency (1, 50) the three targets run back to back,
# closed loop, BENCH_SECS measured seconds each (after a warm-up). Results (JSON lines, the
# table and the ratios) go to bench-results/. Every process started here is stopped on exit.
#
# Environment:
#   BENCH_SECS=10          measured seconds per run
#   BENCH_WARMUP=1         warm-up seconds per run (not measured)
#   BENCH_REPEAT=1         repetitions of the whole matrix; the table shows medians
#   BENCH_CONCURRENCY="1 50"  BENCH_WORKLOADS="set get"  BENCH_TARGETS="slotraft redis+WAIT redis-plain"
#   BENCH_VALUE_SIZE=64    BENCH_KEYSPACE=10000
#   BENCH_TMPDIR=          parent of the temporary data directories [default: $TMPDIR or /tmp]
#   BENCH_KEEP=0           1 keeps the temporary directory (data and server logs)
#   BENCH_BUILD=1          0 skips `cargo build --release --bins`
#   BENCH_SERVER=          slotraft-server binary to run [default: the release build]; for A/B runs
#   BENCH_GROUPS=16        slotraft slot groups (--groups); 16 is the server's default. The
#                          results header names the value, so a run with fewer groups (bigger
#                          batches per Raft group) is never mistaken for one of the default
#   BENCH_RATE=0           offered ops/s per run, spread over the clients; 0 = closed loop. At a
#                          fixed rate below saturation, "cpu us/op" compares builds steadily
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
SECS=${BENCH_SECS:-10}
WARMUP=${BENCH_WARMUP:-1}
REPEAT=${BENCH_REPEAT:-1}
CONCURRENCY=${BENCH_CONCURRENCY:-"1 50"}
WORKLOADS=${BENCH_WORKLOADS:-"set get"}
TARGETS=${BENCH_TARGETS:-"slotraft redis+WAIT redis-plain"}
VALUE_SIZE=${BENCH_VALUE_SIZE:-64}
KEYSPACE=${BENCH_KEYSPACE:-10000}
DEFAULT_GROUPS=16 # slotraft-server's --groups default; the goal is stated for it
GROUPS_N=${BENCH_GROUPS:-$DEFAULT_GROUPS}
[[ $GROUPS_N =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_GROUPS must be a positive integer, got '$GROUPS_N'" >&2; exit 2; }
HOST=127.0.0.1

SR_PORTS=(7101 7102 7103)
SR_GRPC=(17101 17102 17103)
RD_PRIMARY=7201
RD_REPLICAS=(7202 7203)
RD_PLAIN=7301

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    log "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || die "cargo not found"

if [[ ${BENCH_BUILD:-1} != 0 ]]; then
    log "cargo build --release --bins"
    cargo build --release --bins
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN=${TARGET_DIR:-$REPO/target}/release
[[ -x $BIN/slotraft-server && -x $BIN/slotraft-bench ]] || die "release binaries missing in $BIN"

# --- processes ---------------------------------------------------------------------------------
WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/slotraft-bench.XXXXXX")
if [[ $(stat -f -c %T "$WORK" 2>/dev/null) == tmpfs ]]; then
    log "WARNING: $WORK is on tmpfs: fsync costs nothing there; set BENCH_TMPDIR to a real disk"
fi
PIDS=()
SR_PIDS=() RD_PIDS=() RP_PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((${#PIDS[@]})); then
        kill -TERM "${PIDS[@]}" 2>/dev/null || true
        for _ in $(seq 50); do
            local alive=0
            for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
            ((alive)) || break
            sleep 0.1
        done
        kill -KILL "${PIDS[@]}" 2>/dev/null || true
        wait "${PIDS[@]}" 2>/dev/null || true
    fi
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
for p in "${SR_PORTS[@]}" "${SR_GRPC[@]}" "$RD_PRIMARY" "${RD_REPLICAS[@]}" "$RD_PLAIN"; do
    port_busy "$p" && die "port $p on $HOST is already in use"
done

show_logs() {
    for f in "$WORK"/*.log; do
        [[ -f $f ]] || continue
        log "--- last lines of $(basename "$f")"
        tail -n 15 "$f" >&2
    done
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            show_logs
            die "timed out after ${secs}s waiting for $what"
        fi
        sleep 0.2
    done
}

# slotraft: 3 nodes, BENCH_GROUPS slot groups (default 16, as the server's) x 3 replicas.
cluster=""
for i in 0 1 2; do
    cluster+="${cluster:+,}$((i + 1))=$HOST:${SR_PORTS[i]}@${SR_GRPC[i]}"
done
for i in 0 1 2; do
    id=$((i + 1))
    mkdir -p "$WORK/slotraft-$id"
    "${BENCH_SERVER:-$BIN/slotraft-server}" --node-id "$id" --bind "$HOST" --port "${SR_PORTS[i]}" \
        --grpc-port "${SR_GRPC[i]}" --dir "$WORK/slotraft-$id" --initial-cluster "$cluster" \
        --groups "$GROUPS_N" >"$WORK/slotraft-$id.log" 2>&1 &
    PIDS+=($!)
    SR_PIDS+=($!)
done
sr_ok() {
    local p
    for p in "${SR_PORTS[@]}"; do
        redis-cli -h "$HOST" -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    done
}
log "starting slotraft on ports ${SR_PORTS[*]}"
wait_for 90 "slotraft cluster_state:ok on all nodes" sr_ok

# Redis primary + 2 replicas, every one with appendonly yes + appendfsync always.
redis_durable() {
    local port=$1
    shift
    mkdir -p "$WORK/redis-$port"
    redis-server --bind "$HOST" --port "$port" --dir "$WORK/redis-$port" \
        --appendonly yes --appendfsync always --save '' --daemonize no \
        --logfile "$WORK/redis-$port.log" "$@" &
    PIDS+=($!)
    RD_PIDS+=($!)
}
redis_durable "$RD_PRIMARY"
for p in "${RD_REPLICAS[@]}"; do redis_durable "$p" --replicaof "$HOST" "$RD_PRIMARY"; done
mkdir -p "$WORK/redis-$RD_PLAIN"
redis-server --bind "$HOST" --port "$RD_PLAIN" --dir "$WORK/redis-$RD_PLAIN" \
    --appendonly no --save '' --daemonize no --logfile "$WORK/redis-$RD_PLAIN.log" &
PIDS+=($!)
RP_PIDS=($!)
rd_ok() {
    redis-cli -h "$HOST" -p "$RD_PRIMARY" info replication | grep -q '^connected_slaves:2' || return 1
    local p
    for p in "${RD_REPLICAS[@]}"; do
        redis-cli -h "$HOST" -p "$p" info replication | grep -q '^master_link_status:up' || return 1
    done
    redis-cli -h "$HOST" -p "$RD_PLAIN" ping | grep -q PONG
}
log "starting redis primary $RD_PRIMARY, replicas ${RD_REPLICAS[*]}, plain $RD_PLAIN"
wait_for 90 "redis connected_slaves:2 and plain redis" rd_ok

# --- runs --------------------------------------------------------------------------------------
mkdir -p "$REPO/bench-results"
STAMP=$(date +%Y%m%d-%H%M%S)
JSONL=$REPO/bench-results/$STAMP.jsonl
TABLE=$REPO/bench-results/$STAMP.txt
: >"$JSONL"

# The target's address and its server processes, whose CPU time per operation is reported.
target_args() {
    local IFS=,
    case $1 in
    slotraft) echo "--target cluster --addr $HOST:${SR_PORTS[0]} --cpu-pids ${SR_PIDS[*]}" ;;
    redis+WAIT) echo "--target single --addr $HOST:$RD_PRIMARY --cpu-pids ${RD_PIDS[*]}" ;;
    redis-plain) echo "--target single --addr $HOST:$RD_PLAIN --cpu-pids ${RP_PIDS[*]}" ;;
    *) die "unknown target $1" ;;
    esac
}

alive() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || return 1
    done
}

for rep in $(seq "$REPEAT"); do
    for wl in $WORKLOADS; do
        for c in $CONCURRENCY; do
            for t in $TARGETS; do
                # shellcheck disable=SC2207
                args=($(target_args "$t"))
                extra=()
                [[ $wl == get ]] && extra+=(--preload)
                [[ $t == redis+WAIT && $wl == set ]] && extra+=(--wait "2 100")
                log "run $rep/$REPEAT: $t $wl c$c (${SECS}s)"
                if ! line=$("$BIN/slotraft-bench" run "${args[@]}" --label "$t" --workload "$wl" \
                    --concurrency "$c" --duration "$SECS" --warmup "$WARMUP" --rate "${BENCH_RATE:-0}" \
                    --value-size "$VALUE_SIZE" --keyspace "$KEYSPACE" "${extra[@]}"); then
                    show_logs
                    die "slotraft-bench failed for $t $wl c$c"
                fi
                echo "$line" >>"$JSONL"
                echo "$line" >&2
                alive || { show_logs; die "a server process died during $t $wl c$c"; }
            done
        done
    done
done

{
    echo "slotraft bench $STAMP  commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "BENCH_SECS=$SECS BENCH_WARMUP=$WARMUP BENCH_REPEAT=$REPEAT value=${VALUE_SIZE}B keyspace=$KEYSPACE  $(nproc) cores"
    groups_note=""
    [[ $GROUPS_N == "$DEFAULT_GROUPS" ]] || groups_note="  NOT THE DEFAULT ($DEFAULT_GROUPS)"
    echo "slotraft: 3 nodes, --groups $GROUPS_N$groups_note, 3 replicas per group"
    echo "redis+WAIT: primary + 2 replicas, appendonly yes, appendfsync always, SET + WAIT 2 100 pipelined"
    echo
    if [[ $GROUPS_N == "$DEFAULT_GROUPS" ]]; then
        "$BIN/slotraft-bench" report --subject slotraft --durable redis+WAIT --plain redis-plain "$JSONL"
    else
        # The goal is stated for the default layout: a run with other groups is not judged.
        "$BIN/slotraft-bench" report --subject slotraft --durable redis+WAIT --plain redis-plain "$JSONL" |
            sed -E "s/: (NOT )?MET\$/: not judged (--groups $GROUPS_N is not the default $DEFAULT_GROUPS)/"
    fi
} | tee "$TABLE"
log "results: $JSONL and $TABLE"
