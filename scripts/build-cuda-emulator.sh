#!/usr/bin/env bash
# Builds the CPU emulation of the CUDA driver and cuBLAS (Engine.Cuda/Emulator) with the kernels of
# Engine.Cuda/Kernels compiled as C++ by g++, into .cuda-emulator/<key>/ (git-ignored): libcuda.so.1 and
# libcublas.so.11, for XMC_CUDA_LIB_DIR. The key is a hash of the kernel and emulator sources, this script,
# the compiler's version and the flags, so a build is reused until one of them changes.
#
#   scripts/build-cuda-emulator.sh [--sanitize] [--quiet]
#
# --sanitize builds with AddressSanitizer (load it first: LD_PRELOAD=$(g++ -print-file-name=libasan.so)).
# The last line of output is the folder holding the libraries. Exit 2 when g++ is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sanitize=0
quiet=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --quiet) quiet=1 ;;
    *) echo "build-cuda-emulator: unknown argument $arg" >&2; exit 1 ;;
  esac
done

cxx="${CXX:-g++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "build-cuda-emulator: $cxx (g++) not found; install it (Debian: apt-get install g++)" >&2
  exit 2
fi

# XMC_CUDA_KERNELS_DIR builds from another copy of the kernel files (scripts/cuda-emulator-barrier-check.sh).
kernels="${XMC_CUDA_KERNELS_DIR:-Engine.Cuda/Kernels}"
emulator=Engine.Cuda/Emulator
flags=(-std=gnu++20 -fPIC -fvisibility=hidden -ffp-contract=off -fno-fast-math -fno-strict-aliasing -pthread)
if [ "$sanitize" = 1 ]; then
  flags+=(-O1 -g -fsanitize=address -fno-omit-frame-pointer)
  variant=asan
else
  flags+=(-O2 -g1)
  variant=release
fi

key=$( { "$cxx" --version | head -1; echo "${flags[*]}"; cat "$0";
         for f in "$kernels"/*.cu "$kernels"/*.cuh "$emulator"/*.h "$emulator"/*.cpp "$emulator"/checks/*.cu; do echo "== $f"; cat "$f"; done; } \
       | sha256sum | cut -c1-16)
out="$root/.cuda-emulator/$variant-$key"
if [ -f "$out/libcuda.so.1" ] && [ -f "$out/libcublas.so.11" ]; then
  [ "$quiet" = 1 ] || echo "build-cuda-emulator: up to date"
  echo "$out"
  exit 0
fi

start=$(date +%s)
tmp="$root/.cuda-emulator/tmp-$variant-$key-$$"
rm -rf "$tmp"
mkdir -p "$tmp/gen" "$tmp/obj"
trap 'rm -rf "$tmp"' EXIT

# One translation unit per kernel file, in its own namespace, registering each __global__ function by name.
for cu in "$kernels"/*.cu "$emulator"/checks/*.cu; do
  base=$(basename "$cu" .cu)
  ns="xmc_kernels_${base//[^A-Za-z0-9_]/_}"
  names=$("$cxx" -E -P -x c++ -std=gnu++20 -D__global__=XMC_EMU_GLOBAL_MARK -I "$kernels" "$cu" \
          | tr '\n' ' ' | grep -oE 'XMC_EMU_GLOBAL_MARK +void +[A-Za-z_][A-Za-z0-9_]*' | awk '{print $3}' || true)
  if [ -z "$names" ]; then
    echo "build-cuda-emulator: no __global__ function found in $cu" >&2
    exit 1
  fi
  {
    echo "#include \"emu.h\""
    echo "namespace $ns {"
    echo "#include \"$(cd "$(dirname "$cu")" && pwd)/$(basename "$cu")\""
    echo "}"
    i=0
    for name in $names; do
      echo "static xmc_emu::Registrar xmc_register_$i(xmc_emu::describe(\"$name\", \"$base.cu\", &$ns::$name));"
      i=$((i + 1))
    done
  } > "$tmp/gen/$base.cpp"
done

# Compile in parallel through a generated makefile (XMC_BUILD_JOBS, default 2), then link the two libraries.
jobs="${XMC_BUILD_JOBS:-2}"
{
  echo "CXX := $cxx"
  echo "FLAGS := ${flags[*]} -I$root/$emulator -I$(cd "$kernels" && pwd)"
  objs=()
  # Every .cpp of the emulator folder: cublas.cpp makes libcublas.so.11, the rest libcuda.so.1 with the kernels.
  # Objects of the emulator's own files are named emulator-<file>.o, apart from the kernels' (<kernel file>.o).
  for src in "$tmp"/gen/*.cpp "$root/$emulator"/*.cpp; do
    case "$src" in
      "$root/$emulator"/*) obj="$tmp/obj/emulator-$(basename "$src" .cpp).o" ;;
      *) obj="$tmp/obj/$(basename "$src" .cpp).o" ;;
    esac
    objs+=("$obj")
    case "$src" in
      "$root/$emulator"/*) extra="-Wall -Wextra -Werror" ;;
      *) extra="" ;;
    esac
    printf '%s: %s\n\t$(CXX) $(FLAGS) %s -c %s -o %s\n' "$obj" "$src" "$extra" "$src" "$obj"
  done
  drv=()
  for o in "${objs[@]}"; do [ "$(basename "$o")" = emulator-cublas.o ] || drv+=("$o"); done
  printf '%s: %s\n\t$(CXX) $(FLAGS) -shared -Wl,-soname,libcuda.so.1 -o $@ $^\n' "$tmp/libcuda.so.1" "${drv[*]}"
  printf '%s: %s %s\n\t$(CXX) $(FLAGS) -shared -Wl,-soname,libcublas.so.11 -Wl,-rpath,\x27$$ORIGIN\x27 -o $@ %s -L%s -l:libcuda.so.1\n' \
    "$tmp/libcublas.so.11" "$tmp/obj/emulator-cublas.o" "$tmp/libcuda.so.1" "$tmp/obj/emulator-cublas.o" "$tmp"
  echo "all: $tmp/libcuda.so.1 $tmp/libcublas.so.11"
  echo ".DEFAULT_GOAL := all"
} > "$tmp/Makefile"
make -s -f "$tmp/Makefile" -j "$jobs" all >&2

mkdir -p "$out.tmp"
cp "$tmp/libcuda.so.1" "$tmp/libcublas.so.11" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
[ "$quiet" = 1 ] || echo "build-cuda-emulator: built $variant in $(( $(date +%s) - start )) s: $(grep -c '^' <<< "$(ls "$tmp"/gen/*.cpp)") kernel files" >&2
echo "$out"
