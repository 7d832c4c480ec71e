# What the bench/*.sh scripts share, sourced by each (POSIX sh): their
# machine-readable results. Each measured phase leaves one line,
#   result bench=BENCH phase=PHASE n=N seconds=S rss_mib=M baseline_seconds=B
# (bench/README.md), gathered in a file as the phases end and printed after
# the human-readable figures, so that the script's output ends with them.

# bench_results_to FILE: gather the result lines in FILE (emptied), which the
# script removes with its work folder.
bench_results_to() {
  bench_results=$1
  : >"$bench_results"
}

# bench_result BENCH PHASE N SECONDS RSS_KIB [BASELINE_SECONDS]: one line for a
# phase the script measured itself. RSS_KIB is in KiB, as /usr/bin/time's %M
# and VmHWM in /proc/PID/status give it; no BASELINE_SECONDS, or "-", when the
# phase has none. The same line as PrintResult in bench/bench_support.cc.
bench_result() {
  awk -v bench="$1" -v phase="$2" -v n="$3" -v seconds="$4" -v kib="$5" -v baseline="${6:--}" 'BEGIN {
    if (baseline != "-") baseline = sprintf("%.6f", baseline)
    printf "result bench=%s phase=%s n=%d seconds=%.6f rss_mib=%.0f baseline_seconds=%s\n",
           bench, phase, n, seconds, kib / 1024, baseline
  }' >>"$bench_results"
}

# bench_show FILE: prints FILE, a bench program's output, but keeps its result
# lines (PrintResult) for bench_print_results.
bench_show() {
  grep -v '^result ' "$1" || true
  grep '^result ' "$1" >>"$bench_results" || true
}

# bench_run COMMAND...: runs a bench program, then bench_show of its output;
# fails when the program does.
bench_run() {
  "$@" >"$bench_results.out"
  bench_show "$bench_results.out"
}

# The gathered lines, last.
bench_print_results() {
  cat "$bench_results"
}
