#!/usr/bin/env bash
# Runs the C-backend tests (cross-check harness over every variant, C backend suite, kernels, backward,
# concurrency) under a sanitizer:
#   bash scripts/sanitize-c-backend.sh            # AddressSanitizer (default)
#   bash scripts/sanitize-c-backend.sh thread     # ThreadSanitizer, with LLVM's Archer tool so that OpenMP's
#                                                 # synchronisation is understood (no false reports)
# The C kernels are built with -O3 even in this debug build; the Swift reference they are checked against is not,
# so each run takes a few minutes. XCTest's own runner leaks a few objects at exit: scripts/lsan.supp silences them.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer="${1:-address}"
case "$sanitizer" in
  address)
    export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" ;;
  thread)
    archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | head -n 1 || true)
    [ -n "$archer" ] || { echo "libarcher.so not found (Debian package libomp-dev)" >&2; exit 1; }
    # report_thread_leaks=0: libomp never joins the worker threads of the teams that Swift Testing's concurrent
    # test threads start (its pool lives until exit); a thread leak is not a data race, which is what this run checks.
    export OMP_TOOL_LIBRARIES="$archer" TSAN_OPTIONS="halt_on_error=1 report_thread_leaks=0${TSAN_OPTIONS:+ $TSAN_OPTIONS}" ;;
  *) echo "usage: $0 [address|thread]" >&2; exit 2 ;;
esac
swift test --sanitize="$sanitizer" --filter 'CrossCheckTests|CBackendTests|ConvolutionKernelTests|ConcurrencyTests|CBackwardTests'
