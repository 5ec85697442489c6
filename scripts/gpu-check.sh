#!/usr/bin/env bash
# Runs XmcEngine's GPU checks on a machine with an NVIDIA GPU and no .NET (Python with torch is used when present):
# unpacks gpu-bundle.tar.xz (made by scripts/gpu-bundle.sh), finds the CUDA libraries (the driver; NVRTC and cuBLAS
# may come from the nvidia pip wheels that torch installs), runs the CUDA test classes (the parity suite) and the
# Hugging Face parity check (scripts/hf_parity.py, then HfParityTests), the
# gpu-gemm and gpu-ops bench suites (each runs scripts/torch_gpu_peer.py on the same GPU as its PyTorch baseline)
# and short `xmc train` runs on the GPU and the CPU, and writes every log, result file and a summary.md into one
# folder.
#
#   scripts/gpu-check.sh [path/to/gpu-bundle.tar.xz]    (default: gpu-bundle.tar.xz at the repository root;
#                                                        or run the copy inside an unpacked bundle)
#
# Results: in ./gpu-check-<UTC time>; or, where $OUT is set (the device tool, which brings back at most 8 files
# from it), as three files in $OUT: summary.md, gpu-check.log and gpu-check-results.tar.xz (every log, the bench
# rows, the training runs without their checkpoints). Steps: $GPU_CHECK_STEPS, any of "tests bench train"
# (default all three; split them over several calls when one call's time is short). Each step has a time limit.
# Exit status: 0 when every step passed; 1 when a step failed (every step still runs; the last line counts them);
# 2 no bundle; 3 no GPU (or the CUDA emulator was asked for); 4 the bundle does not run here. A test class or suite that skips for want of a GPU or a
# CUDA library counts as failed: on this machine it must run.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/xmc-gpu-check.XXXXXX")"
if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    deliver="$(cd "$OUT" && pwd)"
    out="$work/gpu-check"
else
    deliver=""
    out="$PWD/gpu-check-$(date -u +%Y%m%d-%H%M%S)"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log="$out/gpu-check.log"
: > "$log"
# On any exit: hand the results to $OUT as three files, then remove the unpacked bundle and the kernel cache.
finish() {
    if [[ -n "$deliver" ]]; then
        cp "$log" "$deliver/" 2>/dev/null
        [[ -f "$out/summary.md" ]] && cp "$out/summary.md" "$deliver/"
        (cd "$(dirname "$out")" && XZ_OPT=-6 tar -cJf "$deliver/gpu-check-results.tar.xz" \
            --exclude='*.safetensors' --exclude='checkpoint-*' "$(basename "$out")")
    fi
    rm -rf "$work"
}
trap finish EXIT
say() { echo "$*" | tee -a "$log"; }
fail_now() { # exit status, message
    say "gpu-check: $2"
    exit "$1"
}
steps="${GPU_CHECK_STEPS:-tests bench train}"
python="${XMC_PYTHON:-python3}"

# --- the bundle: this script's own folder when it is an unpacked bundle, else unpack the archive next to $out
if [[ -x "$here/Xmc.Tests" ]]; then
    bundle="$here"
else
    archive="${1:-$here/../gpu-bundle.tar.xz}"
    [[ -f "$archive" ]] || fail_now 2 "no bundle: $archive not found (make it with scripts/gpu-bundle.sh)"
    if ! tar -C "$work" -xJf "$archive" 2>>"$log"; then
        # no xz on this machine: Python's tarfile reads .tar.xz itself (and keeps the executable bits)
        say "tar -xJf failed; unpacking with Python's tarfile"
        "$python" -c 'import sys, tarfile
safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
tarfile.open(sys.argv[1]).extractall(sys.argv[2], **safe)' "$archive" "$work" 2>>"$log" \
            || fail_now 2 "cannot unpack $archive (neither tar with xz nor $python worked; see $log)"
    fi
    bundle="$work/gpu-bundle"
fi
tests="$bundle/Xmc.Tests" bench="$bundle/Xmc.Bench" xmc="$bundle/xmc"
for exe in "$tests" "$bench" "$xmc"; do
    [[ -x "$exe" ]] || fail_now 2 "the bundle in $bundle lacks $(basename "$exe")"
done
say "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ): bundle of commit $(cat "$bundle/COMMIT" 2>/dev/null || echo unknown), output $out, steps: $steps"

# --- the bundle runs here (self-contained .NET needs only glibc and libstdc++)
if ! "$xmc" --help > "$out/bundle-smoke.log" 2>&1; then
    fail_now 4 "the bundle does not run on this machine: $(tail -n 3 "$out/bundle-smoke.log" | tr '\n' ' ')"
fi

# --- a GPU, or a clear stop
if command -v nvidia-smi > /dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv > "$out/nvidia-smi.txt" 2>&1
    gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
    [[ "$gpus" -gt 0 ]] || fail_now 3 "no NVIDIA GPU: nvidia-smi lists none ($(tr '\n' ' ' < "$out/nvidia-smi.txt"))"
    tee -a "$log" < "$out/nvidia-smi.txt"
elif compgen -G '/dev/nvidia[0-9]*' > /dev/null; then
    say "no nvidia-smi, but $(compgen -G '/dev/nvidia[0-9]*' | tr '\n' ' ')present"
else
    fail_now 3 "no NVIDIA GPU on this machine (no nvidia-smi, no /dev/nvidia*); nothing to check"
fi
"$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "GPU available:", torch.cuda.is_available())' \
    > "$out/torch.txt" 2>&1 || echo "no usable torch in $python: the bench suites will report the PyTorch peer as unavailable" >> "$out/torch.txt"
tail -n 1 "$out/torch.txt" | tee -a "$log"

# --- CUDA libraries. Engine.Cuda's resolver already searches XMC_CUDA_LIB_DIR, the loader path, the toolkit folders
# and every site-packages' nvidia/*/lib (CUDA 12 wheels: nvidia/cublas/lib, ...; CUDA 13 wheels: nvidia/cu13/lib);
# naming the wheel folders of the Python that has torch makes that explicit, and covers a venv it would not find.
wheel_dirs="$("$python" - <<'EOF' 2>/dev/null
import glob, os, site, sys
roots = set(sys.path)
try:
    roots.update(site.getsitepackages() + [site.getusersitepackages()])
except AttributeError:  # site of some virtualenvs
    pass
found = set()
for root in roots:
    for d in glob.glob(os.path.join(root, "nvidia", "*", "lib")):
        if glob.glob(os.path.join(d, "libnvrtc.so*")) or glob.glob(os.path.join(d, "libcublas.so*")):
            found.add(os.path.realpath(d))
print(":".join(sorted(found)))
EOF
)"
if [[ -n "$wheel_dirs" ]]; then
    # also on the loader's path, so that the libraries these load (libcublasLt, libnvrtc-builtins) resolve there too
    export XMC_CUDA_LIB_DIR="${XMC_CUDA_LIB_DIR:+$XMC_CUDA_LIB_DIR:}$wheel_dirs"
    export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$wheel_dirs"
fi
say "XMC_CUDA_LIB_DIR=${XMC_CUDA_LIB_DIR:-<not set>}"
# This check is for real GPUs: the CPU emulation of the driver (Engine.Cuda/Emulator) proves nothing here about code
# generation, the math library or speed, so a run that would load it is refused, and the tests never choose it.
if [[ "${XMC_CUDA_EMULATOR:-}" == 1 ]]; then
    fail_now 3 "XMC_CUDA_EMULATOR=1 asks for the CPU emulation of CUDA; gpu-check.sh is for real GPUs (use scripts/cuda-emulator-test.sh)"
fi
IFS=: read -r -a lib_dirs <<< "${XMC_CUDA_LIB_DIR:-}"
for d in "${lib_dirs[@]}"; do
    if [[ -f "$d/libcuda.so.1" ]] && grep -q xmc_emulator_kernel_names "$d/libcuda.so.1" 2>/dev/null; then
        fail_now 3 "XMC_CUDA_LIB_DIR names the CPU emulation of CUDA ($d); gpu-check.sh is for real GPUs (use scripts/cuda-emulator-test.sh)"
    fi
done
export XMC_CUDA_EMULATOR=0
for lib in libcuda.so.1 libnvrtc.so libcublas.so; do
    found="$(ldconfig -p 2>/dev/null | grep -m1 -F "$lib" | sed 's/.*=> //')"
    IFS=: read -r -a dirs <<< "${XMC_CUDA_LIB_DIR:-}"
    for d in "${dirs[@]}"; do
        [[ -z "$found" ]] && found="$(compgen -G "$d/$lib*" | head -n 1)"
    done
    say "  $lib: ${found:-not in ldconfig or XMC_CUDA_LIB_DIR (the engine searches further and names every place on failure)}"
done
export XMC_KERNEL_CACHE="$work/kernel-cache"
export XMC_TORCH_GPU_PEER="$bundle/torch_gpu_peer.py" XMC_PYTHON="$python"

failed=0
step() { # name, time limit in seconds, command...
    local name="$1" limit="$2"
    shift 2
    say "=== $name: $*"
    local start=$SECONDS
    timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    [[ $rc -eq 124 || $rc -eq 137 ]] && say "=== $name: stopped at its limit of $limit s"
    grep -E '^\| |^target|^allocator|^peer|^baseline|^skipped|=== TEST EXECUTION SUMMARY|Total: [0-9]+' "$out/$name.log" | tee -a "$log"
    tail -n 5 "$out/$name.log" >> "$log"
    say "=== $name: exit $rc in $((SECONDS - start)) s"
    [[ $rc -eq 0 ]] || failed=$((failed + 1))
    return $rc
}
not_skipped() { # name, pattern of a skip for want of a GPU or library
    if grep -qE "$2" "$out/$1.log"; then
        say "=== $1: FAILED: skipped for want of a GPU or CUDA library on a GPU machine: $(grep -m1 -E "$2" "$out/$1.log")"
        failed=$((failed + 1))
    fi
}
# Xmc.Bench writes bench-results/ under the repository it runs in, else under the working directory; its last
# line names the file. Keep a copy in $out/bench-results whichever it was.
keep_rows() {
    local file
    file="$(sed -n 's/^rows written to //p' "$out/$1.log" | tail -n 1)"
    [[ -n "$file" && -f "$file" ]] || return 0
    mkdir -p "$out/bench-results"
    [[ "$(realpath "$file")" == "$out/bench-results/"* ]] || cp "$file" "$out/bench-results/"
}

cd "$out"
if [[ " $steps " == *" tests "* ]]; then
    step cuda-tests 420 "$tests" -noColor -class 'Xmc.Tests.Cuda.*'
    not_skipped cuda-tests 'no usable CUDA GPU|no NVRTC|library not found on this machine|was asked for|reports no CUDA device'
    # Parity with Hugging Face transformers (issue 7): the script writes a small random BERT and its outputs and
    # gradients; HfParityTests loads both and compares (it skips, and so fails here, when the folder is missing).
    if step hf-reference 180 "$python" "$bundle/hf_parity.py" --out "$work/hf-parity"; then
        step hf-parity 180 env XMC_HF_PARITY_DIR="$work/hf-parity" "$tests" -noColor -class 'Xmc.Tests.Models.HfParityTests'
        not_skipped hf-parity 'XMC_HF_PARITY_DIR is not set|\[SKIP\]'
    fi
fi
if [[ " $steps " == *" bench "* ]]; then
    for suite in gpu-gemm gpu-ops; do
        step "bench-$suite" 240 "$bench" "$suite"
        not_skipped "bench-$suite" '^skipped:'
        keep_rows "bench-$suite"
    done
fi
if [[ " $steps " == *" train "* ]]; then
    step xmc-train-cuda 240 "$xmc" train --device cuda --epochs 2 --out "$out/xmc-run-cuda"
    step xmc-train-cuda-512MiB 180 "$xmc" train --device cuda --device-memory-limit 512MiB --epochs 1 --out "$out/xmc-run-cuda-512MiB"
    step xmc-train-cpu 300 "$xmc" train --device cpu --epochs 2 --out "$out/xmc-run-cpu"
fi

{
    echo "# gpu-check $(date -u +%Y-%m-%d), commit $(cat "$bundle/COMMIT" 2>/dev/null || echo unknown)"
    echo
    echo '```'
    cat "$out/nvidia-smi.txt" 2>/dev/null
    tail -n 1 "$out/torch.txt"
    echo '```'
    for f in "$out"/*.log; do
        name="$(basename "$f" .log)"
        [[ "$name" == gpu-check || "$name" == bundle-smoke ]] && continue
        echo
        echo "## $name"
        echo
        if [[ "$name" == xmc-* ]]; then
            echo '```'
            grep -vE '^step [0-9]+/' "$f" | tail -n 20 # without the progress lines
            echo '```'
        else
            grep -E '^\| |^target|^allocator|^peer|^baseline|^math|^skipped|Total: [0-9]+|\[FAIL\]|\[SKIP\]' "$f"
        fi
    done
} > "$out/summary.md"
say "gpu-check done: $failed failed step(s); results in ${deliver:-$out} (summary.md for docs/gpu-results.md)"
[[ $failed -eq 0 ]]
