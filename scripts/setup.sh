#!/usr/bin/env bash
# Installs the Debian packages CNNKit builds against, when they are missing (Debian 12; needs root or sudo).
#   libomp-dev         OpenMP runtime for the C backend (CKernels)
#   libopenblas-dev    OpenBLAS sgemm for im2col + GEMM convolution
#   libpng-dev         PNG reading and writing (CNNKitImageIO)
#   libturbojpeg0-dev  JPEG reading and writing through libjpeg-turbo's TurboJPEG API (CNNKitImageIO)
#   pkg-config         how SwiftPM finds libpng and libturbojpeg
# Prints nothing when it succeeds; when apt fails it prints apt's whole output (kept in a temporary log) and exits
# with apt's status.
set -euo pipefail
packages=(libomp-dev libopenblas-dev libpng-dev libturbojpeg0-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log=$(mktemp "${TMPDIR:-/tmp}/cnnkit-setup.XXXXXX.log")
trap 'rm -f "$log"' EXIT
status=0
{
  $sudo apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
} >"$log" 2>&1 || status=$?
if [ $status -ne 0 ]; then
  cat "$log" >&2
  echo "scripts/setup.sh: installing ${missing[*]} failed (apt-get exit status $status; its output is above)" >&2
  exit $status
fi
