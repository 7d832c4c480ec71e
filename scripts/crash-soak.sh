#!/usr/bin/env bash
# Crash soak: the crash trials of tests/crash/crash_test.cc, for longer.
#   scripts/crash-soak.sh [BUILD_DIR] [TRIALS] [SEED]
# BUILD_DIR defaults to build, TRIALS to 2000, SEED to a random one (printed).
# The trials are split over the test's four shards, run side by side; each
# shard's log is kept in BUILD_DIR/crash-soak/. Exit 1 if any trial failed:
# its log names the seed, the trial, the fault point or kill moment, and where
# the failing store was kept.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
trials=${2:-2000}
seed=${3:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
shards=4  # kShards in crash_test.cc
binary="$build/tests/crash/crash_test"
[ -x "$binary" ] || { echo "crash-soak: no $binary (build the crash_test target first)" >&2; exit 64; }
case "$trials" in '' | *[!0-9]*) echo "crash-soak: TRIALS must be a number" >&2; exit 64 ;; esac

logs="$build/crash-soak"
mkdir -p "$logs"
per_shard=$(((trials + shards - 1) / shards))
echo "crash-soak: $((per_shard * shards)) trials ($per_shard per shard), seed $seed, logs in $logs"
start=$(date +%s)
pids=()
for ((shard = 0; shard < shards; ++shard)); do
  PRESERVE_CRASH_SEED=$seed PRESERVE_CRASH_TRIALS=$per_shard \
    "$binary" --gtest_filter="Shards/CrashTrials.*/$shard" >"$logs/shard-$shard.log" 2>&1 &
  pids+=($!)
done
failed=0
for ((shard = 0; shard < shards; ++shard)); do
  if ! wait "${pids[$shard]}"; then
    failed=1
    echo "crash-soak: shard $shard FAILED; see $logs/shard-$shard.log" >&2
    grep -E "Failure|seed [0-9]+, trial|store kept at" "$logs/shard-$shard.log" | head -20 >&2 || true
  fi
done
grep -h -A 100 "summary:" "$logs"/shard-*.log | grep -v "^\[" || true
awk '/summary:/ { for (i = 2; i <= NF; ++i) { if ($i == "trials") t += $(i - 1); if ($i == "crashed") c += $(i + 1) } }
     END { print "crash-soak: in all " t + 0 " trials, " c + 0 " crashed" }' "$logs"/shard-*.log
echo "crash-soak: $(($(date +%s) - start)) s, seed $seed: $([ "$failed" = 0 ] && echo PASSED || echo FAILED)"
exit "$failed"
