#!/usr/bin/env bash
# Proves that the emulator's schedules expose a missing barrier: for each __syncthreads() in
# Engine.Cuda/Kernels/warp.cuh, builds the emulator from a copy of the kernels with that one barrier deleted and
# runs the tests of the kernels that use block_reduce (softmax, LayerNorm, losses) under the in-order and a
# shuffled schedule. Each deletion must make them fail; the script exits non-zero if one does not (or if the
# unmodified kernels fail). Takes a few minutes (one emulator build per barrier).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
header=Engine.Cuda/Kernels/warp.cuh
classes=(--filter-class Xmc.Tests.Cuda.ParitySoftmaxTests --filter-class Xmc.Tests.Cuda.ParityNormTests --filter-class Xmc.Tests.Cuda.ParityLossTests)
schedules="inorder shuffle:1"

dotnet build Tests/Tests.csproj -c Release -v q -nologo 2>&1 | grep -E " error |rror\(s\)" || true

runs() { # emulator folder -> prints "pass" or "fail" per schedule
  local dir="$1" schedule
  for schedule in $schedules; do
    if XMC_CUDA_LIB_DIR="$dir" XMC_CUDA_EMULATOR_SCHEDULE="$schedule" \
        dotnet test --project Tests/Tests.csproj -c Release --no-build -- "${classes[@]}" > /dev/null 2>&1; then
      echo -n "$schedule:pass "
    else
      echo -n "$schedule:fail "
    fi
  done
}

base=$(scripts/build-cuda-emulator.sh --quiet | tail -1) || exit 1
result=$(runs "$base")
echo "unmodified warp.cuh: $result"
if [[ "$result" == *fail* ]]; then
  echo "barrier-check: the unmodified kernels fail; nothing to prove" >&2
  exit 1
fi

rc=0
mapfile -t lines < <(grep -n '__syncthreads()' "$header" | cut -d: -f1)
for line in "${lines[@]}"; do
  copy=$(mktemp -d)
  cp Engine.Cuda/Kernels/*.cu Engine.Cuda/Kernels/*.cuh "$copy/"
  sed -i "${line}s/__syncthreads();//" "$copy/warp.cuh"
  dir=$(XMC_CUDA_KERNELS_DIR="$copy" scripts/build-cuda-emulator.sh --quiet | tail -1) || { rm -rf "$copy"; exit 1; }
  result=$(runs "$dir")
  if [[ "$result" == *fail* ]]; then
    verdict="caught"
  else
    verdict="NOT CAUGHT"
    rc=1
  fi
  echo "warp.cuh:$line without its __syncthreads(): $result-> $verdict"
  rm -rf "$copy" "$dir"
done
echo "barrier-check: $([ $rc -eq 0 ] && echo "every deleted barrier made the reduction tests fail" || echo "a deleted barrier went unnoticed")"
exit $rc
