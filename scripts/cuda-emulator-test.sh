#!/usr/bin/env bash
# Runs the CUDA tests (Tests/Cuda) alone on the CPU emulation of the CUDA driver and cuBLAS (Engine.Cuda/Emulator):
# builds the emulator (cached) and the tests, then runs the CUDA tests once per schedule of the emulator's fibers,
# and ends with the line `cuda tests: N passed, N failed, N skipped` summed over the runs. Exit non-zero on any
# failure.
#
#   scripts/cuda-emulator-test.sh                       # schedules: inorder and shuffle:1
#   scripts/cuda-emulator-test.sh --schedules "shuffle:3 shuffle:4"
#   scripts/cuda-emulator-test.sh --sanitize            # also the parity suite on an AddressSanitizer build
#   scripts/cuda-emulator-test.sh --no-build            # reuse Tests' Release build
#   scripts/cuda-emulator-test.sh --filter-class 'Xmc.Tests.Cuda.Parity*' --filter-class ...   # a subset
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

schedules="inorder shuffle:1"
sanitize=0
build=1
filter=(--filter-namespace Xmc.Tests.Cuda)
while [ $# -gt 0 ]; do
  case "$1" in
    --schedules) schedules="$2"; shift 2 ;;
    --sanitize) sanitize=1; shift ;;
    --no-build) build=0; shift ;;
    --filter-class) if [ "${filter[0]}" = --filter-namespace ]; then filter=(); fi; filter+=(--filter-class "$2"); shift 2 ;;
    *) echo "cuda-emulator-test: unknown argument $1" >&2; exit 1 ;;
  esac
done

start=$(date +%s)
dir=$(scripts/build-cuda-emulator.sh | tail -1) || { echo "cuda-emulator-test: the emulator did not build" >&2; exit 1; }
echo "cuda-emulator-test: emulator in $dir ($(( $(date +%s) - start )) s)"
if [ "$build" = 1 ]; then
  dotnet build Tests/Tests.csproj -c Release -v q -nologo 2>&1 | grep -E "error|Warn|Elapsed" || true
fi

passed=0 failed=0 skipped=0 rc=0
run() { # label, then environment assignments for the test process
  local label="$1"; shift
  local log t0
  log=$(mktemp)
  t0=$(date +%s)
  env "$@" dotnet test --project Tests/Tests.csproj -c Release --no-build -- "${filter[@]}" > "$log" 2>&1
  local code=$?
  grep -E '^(failed|skipped) |^\s+(total|failed|succeeded|skipped|duration):|ERROR: AddressSanitizer|^SUMMARY: AddressSanitizer|^\s+#[0-9]+ .* in ' "$log" | head -200
  local p f s
  p=$(grep -E '^\s*succeeded:\s*[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  f=$(grep -E '^\s*failed:\s*[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  s=$(grep -E '^\s*skipped:\s*[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1 # the process died (e.g. a sanitizer report) before the runner's summary
    tail -40 "$log"
  fi
  echo "cuda-emulator-test: $label: $p passed, $f failed, $s skipped in $(( $(date +%s) - t0 )) s"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  [ "$code" -eq 0 ] || rc=1
  rm -f "$log"
}

for schedule in $schedules; do
  run "schedule $schedule" XMC_CUDA_LIB_DIR="$dir" XMC_CUDA_EMULATOR_SCHEDULE="$schedule"
done

if [ "$sanitize" = 1 ]; then
  asan_dir=$(scripts/build-cuda-emulator.sh --sanitize | tail -1) || { echo "cuda-emulator-test: the sanitizer build failed" >&2; exit 1; }
  asan_lib=$(${CXX:-g++} -print-file-name=libasan.so)
  # First, that the sanitizer build reports an out-of-bounds write inside a kernel, naming the kernel.
  probe=$(mktemp -d)
  ${CXX:-g++} -O1 -o "$probe/asan_probe" Engine.Cuda/Emulator/checks/asan_probe.cpp -ldl
  LD_PRELOAD="$asan_lib" ASAN_OPTIONS=detect_leaks=0 "$probe/asan_probe" "$asan_dir" > "$probe/report" 2>&1
  if grep -q 'ERROR: AddressSanitizer: heap-buffer-overflow' "$probe/report" && grep -q 'check_out_of_bounds' "$probe/report" &&
     grep -q 'emulator_checks.cu:' "$probe/report"; then
    echo "cuda-emulator-test: the sanitizer build reports a kernel's write past an allocation: $(grep -m1 -E 'in check_out_of_bounds' "$probe/report" | sed 's/^ *//')"
  else
    echo "cuda-emulator-test: the sanitizer build did NOT report check_out_of_bounds's write past the end:" >&2
    cat "$probe/report" >&2
    rc=1; failed=$((failed + 1))
  fi
  rm -rf "$probe"
  # The parity suite only: every kernel family, on kernels built with AddressSanitizer. An out-of-bounds access
  # inside a kernel aborts the run with a report naming the kernel and line.
  saved=("${filter[@]}")
  filter=(--filter-class 'Xmc.Tests.Cuda.Parity*')
  run "AddressSanitizer, parity suite" XMC_CUDA_LIB_DIR="$asan_dir" XMC_CUDA_EMULATOR_SCHEDULE=inorder LD_PRELOAD="$asan_lib" \
    ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1:use_sigaltstack=0:detect_stack_use_after_return=0:abort_on_error=1"
  filter=("${saved[@]}")
fi

echo "cuda-emulator-test: took $(( $(date +%s) - start )) s"
echo "cuda tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || rc=1
exit "$rc"
