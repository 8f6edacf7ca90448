#!/usr/bin/env bash
# Fuzzing, two ways:
#   bash scripts/fuzz.sh N [SEED]            the in-process harness (Sources/CNNKitFuzz): N random descriptors and
#                                            tensors per registered backend, valid and invalid, every operator and
#                                            rank, hostile values included; every invalid one must throw a
#                                            CNNKitError, every valid one must agree with the reference backend.
#                                            Prints the counts; exits non-zero on any disagreement, crash or hang.
#   bash scripts/fuzz.sh --libfuzzer SECONDS [TARGET...]
#                                            builds each libFuzzer target (clang / swiftc -sanitize=fuzzer,address)
#                                            and runs it for SECONDS with a fixed seed; targets: conv pool resample
#                                            (the C kernels' entry points, Fuzz/ck_fuzz_*.c) and readers (the .npy
#                                            and PNG readers, Fuzz/readers_fuzz.swift); default all. Inputs that
#                                            once failed, Fuzz/corpus/<target>/, are replayed first.
# Environment: CNNKIT_FUZZ_SCRATCH (build directory, default /tmp/cnnkit-fuzz-build), CNNKIT_FUZZ_SEED (libFuzzer
# -seed, default 1), CNNKIT_FUZZ_ARGS (extra harness arguments, e.g. "--budget 67108864").
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${CNNKIT_FUZZ_SCRATCH:-/tmp/cnnkit-fuzz-build}"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

if [ "${1:-}" != "--libfuzzer" ]; then
  [ $# -ge 1 ] && [ $# -le 2 ] || usage
  [[ "$1" =~ ^[0-9]+$ ]] || usage
  [ $# -lt 2 ] || [[ "$2" =~ ^[0-9]+$ ]] || usage
  swift build -c release --product CNNKitFuzz --scratch-path "$scratch/swiftpm" >&2
  # shellcheck disable=SC2086
  exec "$scratch/swiftpm/release/CNNKitFuzz" "$1" "${2:-1}" ${CNNKIT_FUZZ_ARGS:-}
fi

shift
[ $# -ge 1 ] && [[ "$1" =~ ^[0-9]+$ ]] || usage
seconds="$1"; shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(conv pool resample readers)
seed="${CNNKIT_FUZZ_SEED:-1}"
out="$scratch/libfuzzer"
mkdir -p "$out"
bin=$(dirname "$(readlink -f "$(command -v swiftc)")")
clang="$bin/clang"
sanitize="-fsanitize=fuzzer,address"

# The C kernels, instrumented once into one archive (OpenMP as in Package.swift).
build_kernels() {
  [ -f "$out/libckernels.a" ] && [ -z "$(find CKernels Fuzz -newer "$out/libckernels.a" -name '*.[ch]' | head -n 1)" ] && return
  rm -rf "$out/obj" && mkdir -p "$out/obj"
  local i=0
  while IFS= read -r source; do
    i=$((i + 1))
    "$clang" -c -O1 -g -fopenmp -fsanitize=fuzzer-no-link,address -ICKernels/include "$source" -o "$out/obj/$i.o"
  done < <(find CKernels -name '*.c' | sort)
  ar rcs "$out/libckernels.a" "$out"/obj/*.o
}

# CNNKitCore and CNNKitImageIO (with the libpng shim) compiled into the Swift target itself, instrumented.
build_readers() {
  local png_flags jpeg_flags
  png_flags=$(pkg-config --cflags --libs libpng)
  jpeg_flags=$(pkg-config --cflags --libs libturbojpeg)
  mkdir -p "$out/readers"
  "$clang" -c -O1 -g -fsanitize=fuzzer-no-link,address -ISources/CPNGShim/include $(pkg-config --cflags libpng) \
    Sources/CPNGShim/ck_png.c -o "$out/readers/ck_png.o"
  cat > "$out/readers/module.modulemap" <<EOF
module CPNGShim { header "$PWD/Sources/CPNGShim/include/ck_png.h" export * }
EOF
  swiftc -O -g -sanitize=fuzzer,address -parse-as-library -package-name cnnkit -module-name CNNKitCore \
    -emit-module -emit-module-path "$out/readers/CNNKitCore.swiftmodule" -emit-library -static \
    -o "$out/readers/libCNNKitCore.a" $(find Sources/CNNKitCore -name '*.swift' | sort)
  swiftc -O -g -sanitize=fuzzer,address -parse-as-library -package-name cnnkit -module-name CNNKitImageIO \
    -I "$out/readers" -I Sources/CTurboJPEG -Xcc -fmodule-map-file="$out/readers/module.modulemap" \
    -Xcc -fmodule-map-file=Sources/CTurboJPEG/module.modulemap \
    -emit-module -emit-module-path "$out/readers/CNNKitImageIO.swiftmodule" -emit-library -static \
    -o "$out/readers/libCNNKitImageIO.a" $(find Sources/CNNKitImageIO -name '*.swift' | sort)
  # shellcheck disable=SC2086
  swiftc -O -g -sanitize=fuzzer,address -parse-as-library -package-name cnnkit -I "$out/readers" \
    -Xcc -fmodule-map-file="$out/readers/module.modulemap" -Xcc -fmodule-map-file=Sources/CTurboJPEG/module.modulemap \
    Fuzz/readers_fuzz.swift "$out/readers/libCNNKitImageIO.a" "$out/readers/libCNNKitCore.a" "$out/readers/ck_png.o" \
    $(echo $png_flags $jpeg_flags | sed 's/-I[^ ]*//g; s/-l/-Xlinker -l/g') -o "$out/readers_fuzz"
}

status=0
for target in "${targets[@]}"; do
  case "$target" in
    conv|pool|resample)
      build_kernels
      "$clang" -O1 -g $sanitize -fuse-ld=lld -ICKernels/include "Fuzz/ck_fuzz_$target.c" "$out/libckernels.a" \
        -lopenblas -lomp5 -lm -o "$out/ck_fuzz_$target"
      binary="$out/ck_fuzz_$target" ;;
    readers) build_readers; binary="$out/readers_fuzz" ;;
    *) echo "scripts/fuzz.sh: unknown target $target (conv pool resample readers)" >&2; exit 2 ;;
  esac
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  # Inputs that once failed (Fuzz/corpus/README.md): replayed first, read only.
  seeds=()
  [ -d "Fuzz/corpus/$target" ] && seeds=("Fuzz/corpus/$target")
  echo "== libFuzzer $target: $seconds s, seed $seed" >&2
  log="$out/$target.log"
  # ASan's leak check stays on; OpenMP's thread pool is torn down at exit. One worker: the machine is shared.
  if OMP_NUM_THREADS=2 ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1" \
     "$binary" -seed="$seed" -max_total_time="$seconds" -artifact_prefix="$out/$target-" -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=20 \
       -print_final_stats=1 "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$log" | tail -n 2 >&2
    grep -E "^#[0-9]+.*cov: " "$log" | tail -n 1 >&2  # the final coverage (cov: edges, ft: features)
  else
    status=1
    tail -n 40 "$log" >&2
    echo "scripts/fuzz.sh: libFuzzer target $target failed (log: $log)" >&2
  fi
done
exit $status
