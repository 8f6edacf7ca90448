#!/usr/bin/env bash
# Builds the DocC documentation of CNNKit and CNNKitImageIO with swift-docc-plugin and fails on any DocC warning.
#   bash scripts/build-docs.sh [OUTPUT_FOLDER]     (default: .build-docs/archives)
#
# Why two steps for CNNKit: CNNKit re-exports CNNKitCore, CNNKitReference and CNNKitCBackend (@_exported import),
# and its catalog documents their symbols (``Tensor``, ``CNNKitError``, ``CBackend`` …) as part of CNNKit, as a
# user sees them after `import CNNKit`. swift-docc-plugin 1.5.0 takes symbol graphs from swift-symbolgraph-extract,
# which leaves re-exported symbols out (swiftlang/swift-docc-plugin#113), so every such link would be a warning.
# The compiler's own symbol graph (-emit-symbol-graph while building) includes them; step 1 builds CNNKit with it,
# step 2 hands CNNKit's graphs to the plugin's docc run (--additional-symbol-graph-dir; docc merges them with the
# plugin's own graph of the module). Both steps use the same build flags and scratch folder, so the plugin's build
# is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-docs
out=${1:-$scratch/archives}
graphs=$scratch/symbol-graphs
flags=(-Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs/all")
log=$(mktemp)
trap 'rm -f "$log"' EXIT

rm -rf "$graphs" && mkdir -p "$graphs/all" "$graphs/CNNKit" "$out"
build_graphs() {
  if ! swift build --scratch-path "$scratch" --target CNNKit "${flags[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "scripts/build-docs.sh: building CNNKit for its symbol graph failed" >&2
    exit 1
  fi
}
build_graphs
# A build with nothing to do (a second run on unchanged sources) writes no symbol graph: recompile CNNKit alone.
if [ ! -f "$graphs/all/CNNKit.symbols.json" ]; then
  touch Sources/CNNKit/*.swift
  build_graphs
fi
cp "$graphs"/all/CNNKit.symbols.json "$graphs"/CNNKit/
cp "$graphs"/all/CNNKit@*.symbols.json "$graphs"/CNNKit/ 2>/dev/null || true

status=0
for target in CNNKit CNNKitImageIO; do
  extra=()
  [ "$target" = CNNKit ] && extra=(--additional-symbol-graph-dir "$graphs/CNNKit")
  if ! swift package --scratch-path "$scratch" "${flags[@]}" --allow-writing-to-directory "$out" \
      generate-documentation --target "$target" --output-path "$out/$target.doccarchive" \
      --warnings-as-errors "${extra[@]}" >"$log" 2>&1 \
     || grep -Eq '^(warning|error):' "$log"; then
    cat "$log" >&2
    echo "scripts/build-docs.sh: DocC for $target reported the warnings or errors above" >&2
    status=1
  else
    echo "DocC: $target built with no warnings -> $out/$target.doccarchive"
  fi
done
exit $status
