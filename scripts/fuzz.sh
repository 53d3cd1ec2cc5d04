#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-16, AddressSanitizer + UndefinedBehaviorSanitizer)
# in build-asan (scripts/asan-build.sh: the same build directory runs the test suite under
# those sanitizers) and runs them.
#
#   scripts/fuzz.sh --smoke [TARGET...]         replay fuzz/regressions/ and fuzz/corpus/, then fuzz
#                                               each target for ORDERFLOW_FUZZ_SMOKE_SECONDS (5) s
#   scripts/fuzz.sh --long SECONDS [TARGET...]  fuzz each target for SECONDS, two at a time,
#                                               keeping the grown corpus in build-asan/corpus/
#   scripts/fuzz.sh --build                     build only
#
# Any crash, sanitizer report, leak, timeout (ORDERFLOW_FUZZ_TIMEOUT, 30 s per input) or broken
# contract fails the run (exit 1); the input that caused it is in build-asan/artifacts/<target>/.
# To keep it: fix the bug, copy the input to fuzz/regressions/<target>/ (every smoke run replays
# it) and add a unit test beside the code. Reproduce one input with
#   build-asan/fuzz/fuzz_<target> path/to/input
# Environment: ORDERFLOW_FUZZ_JOBS (build parallelism, 2), ORDERFLOW_FUZZ_PARALLEL (targets run
# at once by --long, 2).
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(http_request sigv4 form json_protocol ddb_expression sns_filter_policy template order sqs_event)
mode="" seconds=0
case "${1:-}" in
  --smoke) mode=smoke; seconds="${ORDERFLOW_FUZZ_SMOKE_SECONDS:-5}"; shift ;;
  --long) mode=long; seconds="${2:?--long needs a number of seconds}"; shift 2 ;;
  --build) mode=build; shift ;;
  *) echo "usage: scripts/fuzz.sh --smoke | --long SECONDS | --build [TARGET...]" >&2; exit 2 ;;
esac
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/$t.cpp" ] || { echo "fuzz: no target $t (one of: ${all_targets[*]})" >&2; exit 2; }
done

bash scripts/install-deps.sh >/dev/null
. scripts/asan-build.sh
build=$asan_build_dir
asan_configure
cmake --build "$build" -j"${ORDERFLOW_FUZZ_JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")
[ "$mode" = build ] && exit 0

symbolizer=""
for s in /usr/lib/llvm-16/bin/llvm-symbolizer llvm-symbolizer-16 llvm-symbolizer; do
  if command -v "$s" >/dev/null 2>&1; then symbolizer="$(command -v "$s")"; break; fi
done
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
timeout_s="${ORDERFLOW_FUZZ_TIMEOUT:-30}"
logs="$build/fuzz-logs"
mkdir -p "$logs"

# The final statistics of a libFuzzer log: "<executions> <exec/s> <peak rss MB>".
stats() {
  grep -a '^stat::' "$1" | awk '$1 == "stat::number_of_executed_units:" {n=$2}
    $1 == "stat::average_exec_per_sec:" {r=$2} $1 == "stat::peak_rss_mb:" {m=$2}
    END {print n+0, r+0, m+0}'
}

# fuzz TARGET SECONDS WORKDIR: fuzzes into WORKDIR (seeded from fuzz/corpus and the regressions),
# writes $logs/TARGET.log; returns libFuzzer's status.
fuzz() {
  local t=$1 secs=$2 work=$3 bin="$build/fuzz/fuzz_$1"
  mkdir -p "$work" "$build/artifacts/$t"
  local seeds=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  "$bin" -max_total_time="$secs" -timeout="$timeout_s" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t/" "$work" "${seeds[@]}" >"$logs/$t.log" 2>&1
}

failed=()
report_failure() {  # TARGET WHAT
  failed+=("$1")
  echo "fuzz: $1: $2 (log: $logs/$1.log)" >&2
  grep -E "ERROR: |SUMMARY: |runtime error|fuzz contract broken|Test unit written|^#[0-9]+ +0x" "$logs/$1.log" | head -30 >&2 || true
}

if [ "$mode" = smoke ]; then
  started=$SECONDS
  for t in "${targets[@]}"; do
    bin="$build/fuzz/fuzz_$t"
    inputs=()
    for d in "fuzz/regressions/$t" "fuzz/corpus/$t"; do
      [ -d "$d" ] && while IFS= read -r f; do inputs+=("$f"); done < <(find "$d" -type f | sort)
    done
    # Every regression and seed once, then fuzzing from them.
    if ! "$bin" -timeout="$timeout_s" "${inputs[@]}" >"$logs/$t.log" 2>&1; then
      report_failure "$t" "a regression or seed input fails"
      continue
    fi
    work="$(mktemp -d)"
    if fuzz "$t" "$seconds" "$work"; then
      read -r n rate rss < <(stats "$logs/$t.log")
      printf 'fuzz: %-18s %4d inputs replayed, %9d executions in %ss (%s/s), ok\n' "$t" "${#inputs[@]}" "$n" "$seconds" "$rate"
    else
      report_failure "$t" "crash while fuzzing"
    fi
    rm -rf "$work"
  done
  echo "fuzz: smoke run of ${#targets[@]} targets took $((SECONDS - started)) s"
else
  parallel="${ORDERFLOW_FUZZ_PARALLEL:-2}"
  printf '%-18s %8s %14s %10s %9s  %s\n' target seconds executions exec/s rss_mb result
  run_one() {
    local t=$1 result=ok
    fuzz "$t" "$seconds" "$build/corpus/$t" || result=FAILED
    read -r n rate rss < <(stats "$logs/$t.log")
    printf '%-18s %8s %14s %10s %9s  %s\n' "$t" "$seconds" "$n" "$rate" "$rss" "$result"
    echo "$result" >"$logs/$t.result"
  }
  for t in "${targets[@]}"; do
    rm -f "$logs/$t.result"
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
    run_one "$t" &
  done
  wait
  for t in "${targets[@]}"; do
    [ "$(cat "$logs/$t.result" 2>/dev/null)" = ok ] || report_failure "$t" "crash while fuzzing"
  done
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ok"
