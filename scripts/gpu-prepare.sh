#!/usr/bin/env bash
# Prepares a GPU window, run HERE (a machine with nvcc and the Debian packages, no
# GPU needed): builds the CUDA binaries and gathers into one ignored folder,
# build/gpu-kit/, everything scripts/gpu-check.sh needs on a GPU machine that has
# CUDA, cuBLAS and NCCL but none of the Debian libraries:
#   bin/     suite and test_gpu (CUDA build)
#   lib/     the non-CUDA shared libraries they link (OpenBLAS, jansson, pcre2,
#            yaml, csv, check, Open MPI and their dependencies)
#   glibc/   this machine's C library and loader, used only if the device's is older
#   COMMIT   the commit (and whether the tree had local changes) the kit was built from
# The data (bundled C4 sample, GPT-2 files) and scripts are tracked files: they
# travel with the working tree. Usage: scripts/gpu-prepare.sh [KIT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${1:-build/gpu-kit}
BUILD_DIR=build/gpu-kit-build

command -v nvcc >/dev/null || { echo "gpu-prepare: nvcc not found: put the CUDA toolkit's bin/ on PATH" >&2; exit 1; }
echo "gpu-prepare: building the CUDA binaries in $BUILD_DIR"
make -j"${JOBS:-2}" BUILD="$BUILD_DIR" "$BUILD_DIR/suite" "$BUILD_DIR/test_gpu"

rm -rf "$KIT"
mkdir -p "$KIT/bin" "$KIT/lib" "$KIT/glibc"
for b in suite test_gpu; do
    # host debug info is not needed there; device line info (-lineinfo) stays
    strip --strip-debug -o "$KIT/bin/$b" "$BUILD_DIR/$b"
done

# CUDA's own libraries come from the device (the driver must match them); glibc
# goes apart because it must be loaded with its own loader or not at all.
is_cuda_lib() { [[ $1 =~ ^lib(cuda|cudart|cublas|cublasLt|nccl|nvidia-|nvrtc|nvJitLink) ]]; }
is_glibc() { [[ $1 =~ ^(libc|libm|libdl|librt|libpthread|ld-linux-x86-64)\.so ]]; }
for b in "$KIT"/bin/*; do
    ldd "$b" | awk '$3 ~ /^\// {print $1, $3} $1 ~ /^\/.*ld-linux/ {print "ld-linux-x86-64.so.2", $1}'
done | sort -u | while read -r name path; do
    if is_cuda_lib "$name"; then continue; fi
    if is_glibc "$name"; then cp -L "$path" "$KIT/glibc/$name"; else cp -L "$path" "$KIT/lib/$name"; fi
done

{
    git rev-parse HEAD 2>/dev/null || echo "unknown (no git)"
    git status --porcelain 2>/dev/null | grep -q . && echo "local changes: yes" || echo "local changes: no"
    date -u +"built %Y-%m-%d %H:%M UTC on $(hostname)"
} >"$KIT/COMMIT"
# The kit travels as one xz archive (the libraries, OpenBLAS above all, shrink
# about fourfold), so that it fits beside the working tree in a device call.
ARCHIVE=$KIT.tar.xz
tar -C "$(dirname "$KIT")" -cJf "$ARCHIVE" "$(basename "$KIT")"
# What a device call sends: tracked and untracked-not-ignored files, plus the archive.
tree=$(git ls-files -z -co --exclude-standard 2>/dev/null | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
kit=$(du -sb "$ARCHIVE" | cut -f1)
total_mib=$(( (${tree:-0} + kit) / 1048576 ))
echo "gpu-prepare: kit archive $((kit / 1048576)) MiB + working tree $((${tree:-0} / 1048576)) MiB = $total_mib MiB to carry (limit 64)"
if [ "$total_mib" -ge 64 ]; then
    echo "gpu-prepare: too large to send: ignore build folders and large untracked files first" >&2
    echo "  (git ls-files -co --exclude-standard lists what travels)" >&2
fi
echo "gpu-prepare: kit ready in $ARCHIVE. On the device, from the repository root:"
echo "  scripts/gpu-check.sh --kit $ARCHIVE      (carry: $ARCHIVE)"
