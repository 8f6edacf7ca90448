#!/usr/bin/env bash
# Installs the Debian packages CNNKit builds against, when they are missing (Debian 12; needs root or sudo).
#   libomp-dev      OpenMP runtime for the C backend (CKernels)
#   libopenblas-dev OpenBLAS sgemm for im2col + GEMM convolution
#   libpng-dev      PNG reading and writing in the cnnkit tool
set -euo pipefail
packages=(libomp-dev libopenblas-dev libpng-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "scripts/setup.sh: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
