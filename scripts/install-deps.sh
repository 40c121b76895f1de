#!/usr/bin/env bash
# Installs the Debian packages noisette needs to build, test and run its demo,
# skipping those already installed. Safe to run again. Works as root, or
# through sudo for another user.
#
#   scripts/install-deps.sh           build, tests, demo data
#   scripts/install-deps.sh --fuzz    also clang's libFuzzer, for `make fuzz`
set -euo pipefail

packages=(
    build-essential     # gcc, make, libc headers
    cmake
    zlib1g-dev          # gzip-compressed IDX files
    libjpeg62-turbo-dev # JPEG decoding (the libjpeg-turbo Pillow uses)
    libpng-dev          # PNG decoding
    libjansson-dev      # the results file of noisette train (JSON lines)
    libcmocka-dev       # unit tests
    libopenblas-dev     # sgemm for the fast backend (src/nn/backend_blas.c)
    libdnnl-dev         # oneDNN, optional: the dnnl backend (src/nn/backend_dnnl.c)
    libcurl4-openssl-dev    # noisette get: downloads (HTTP Range resume, retries)
    libarchive-dev      # noisette get: unpacking the .tgz archives safely
    libssl-dev          # noisette get: MD5 checks of the archives (libcrypto's EVP)
    libcairo2-dev       # noisette plot and audit --png: PNG figures (src/report/plot.c)
    libopenmpi-dev openmpi-bin  # data-parallel training under mpirun (src/train/dist.c)
    dataset-fashion-mnist   # the embedded default dataset (demo, tests)
    python3-pil python3-numpy   # fake image trees and Pillow fixtures (tests, tools)
)
for arg in "$@"; do
    case "$arg" in
        --fuzz) packages+=(clang libclang-rt-14-dev) ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-deps.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
