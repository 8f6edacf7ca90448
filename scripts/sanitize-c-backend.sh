#!/usr/bin/env bash
# Runs the C-backend tests (cross-check harness, C backend suite) under AddressSanitizer. The C kernels are built
# with -O3 even in this debug build; the Swift reference they are checked against is not, so this takes minutes.
# XCTest's own runner leaks a few objects at exit: scripts/lsan.supp silences exactly those.
set -euo pipefail
cd "$(dirname "$0")/.."
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
swift test --sanitize=address --filter 'CrossCheckTests|CBackendTests' "$@"
