#!/usr/bin/env bash
# Packs what a GPU machine without .NET needs to check the CUDA backend: the test executable (xunit v3),
# Xmc.Bench and xmc, self-contained for linux-x64, plus scripts/gpu-check.sh and scripts/torch_gpu_peer.py,
# into gpu-bundle.tar.xz at the repository root (override with $1). Fails if the archive is over 60 MB.
#
# The three apps are published separately and merged into one folder, where they share the .NET runtime, the
# engine assemblies and the common packages (one runtime instead of three); a file name the apps share must then
# have the same bytes in each, which is checked. libtorch (the CPU TorchSharp peer of Bench, ~600 MB) is left
# out: on the GPU machine the PyTorch peer is scripts/torch_gpu_peer.py, and Bench's CPU suites would report the
# libtorch peer as unavailable.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
archive="${1:-$root/gpu-bundle.tar.xz}"
limit_mb=60
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

publish() { # project, folder
    echo "publishing $1 ..."
    dotnet publish "$root/$1" -c Release -r linux-x64 --self-contained \
        -p:PublishTrimmed=false -p:DebugType=none -p:DebugSymbols=false -p:SatelliteResourceLanguages=en \
        -o "$work/$2" -v quiet -nologo
}

publish Tests tests
publish Bench bench
publish Training xmc

# The TorchSharp CPU natives: libtorch and its dependencies, and the TorchSharp shim.
for app in tests bench xmc; do
    find "$work/$app" -maxdepth 1 -type f \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' \
        -o -name 'libLibTorchSharp*.so*' -o -name 'libshm*.so*' -o -name 'libaoti_custom_ops.so' \
        -o -name 'libbackend_with_compiler.so' -o -name 'libjitbackend_test.so' -o -name 'libnnapi_backend.so' \) -delete
done

bundle="$work/gpu-bundle"
mkdir -p "$bundle"
conflicts=0
for app in tests bench xmc; do
    while IFS= read -r -d '' file; do
        rel="${file#"$work/$app/"}"
        if [[ -e "$bundle/$rel" ]] && ! cmp -s "$file" "$bundle/$rel"; then
            echo "conflict: $rel differs between the apps"
            conflicts=$((conflicts + 1))
        fi
    done < <(find "$work/$app" -type f -print0)
    cp -a "$work/$app/." "$bundle/"
done
if [[ $conflicts -gt 0 ]]; then
    echo "error: $conflicts file(s) differ between the apps; they cannot share one folder" >&2
    exit 1
fi
cp "$root/scripts/gpu-check.sh" "$root/scripts/torch_gpu_peer.py" "$root/scripts/hf_parity.py" "$bundle/"
# the commit the bundle was built from, marked when the working tree had changes on top of it
if head="$(git -C "$root" rev-parse HEAD 2>/dev/null)"; then
    [[ -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]] || head="$head+changes"
    echo "$head" > "$bundle/COMMIT"
else
    echo unknown > "$bundle/COMMIT"
fi

echo "packing $archive ..."
XZ_OPT="${XZ_OPT:--6 -T0}" tar -C "$work" -cJf "$archive" gpu-bundle
bytes=$(stat -c %s "$archive")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "gpu-bundle: $archive, $mb MB ($(du -sh "$bundle" | cut -f1) unpacked)"
if (( bytes > limit_mb * 1000000 )); then
    echo "error: the bundle is over $limit_mb MB" >&2
    exit 1
fi
