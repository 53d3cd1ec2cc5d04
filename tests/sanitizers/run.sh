#!/bin/sh
# Runs one test of a sanitizer build (-DORDERFLOW_SANITIZE=...): `run.sh COMMAND ARGS...`.
# CTest starts every test through it (CROSSCOMPILING_EMULATOR of the *_tests binaries; the
# black-box tests' node command). Every process the test starts, however deep (the test binary,
# `orderflow up`, the function's bootstrap workers, the crash test's children), writes its
# sanitizer reports to a directory of its own for this test (log_path), and the test fails when
# any report is there: also a report in a worker whose exit status the server only logged, or
# in a process killed with SIGKILL later. The reports are printed on stderr.
# The options below are defaults; ASAN_OPTIONS etc. from the environment override them (not
# log_path). The server passes these variables on to its workers (engine/functions.cpp).
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/orderflow-sanitizer.XXXXXX") || exit 1
log="log_path=$dir/report"
# Any report ends the process with a status no test expects, and ends up in $dir.
ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:strict_init_order=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}:$log"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}:$log"
LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}:$log"
TSAN_OPTIONS="halt_on_error=1:exitcode=89:second_deadlock_stack=1:suppressions=$here/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}:$log"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS

"$@"
status=$?

reports=$(find "$dir" -type f -size +0 | sort)
if [ -n "$reports" ]; then
  for r in $reports; do
    echo "==== sanitizer report of pid ${r##*.} ($(basename "$r")) ====" >&2
    cat "$r" >&2
  done
  echo "run.sh: FAILED: $(echo "$reports" | wc -l) sanitizer report(s) from: $*" >&2
  [ "$status" -eq 0 ] && status=1
fi
rm -rf "$dir"
exit "$status"
