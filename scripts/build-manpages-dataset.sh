#!/usr/bin/env bash
# Builds a small real extreme multi-label data set from Debian's manual pages (packages manpages and
# manpages-dev) into the folder given as argument: text = a page's NAME + DESCRIPTION, labels = the pages
# its SEE ALSO names plus its section. Writes both the sparse bag-of-words format (train.txt, test.txt) and
# the LF-* JSON-lines format (trn.json, tst.json, lbl.json); see scripts/manpages_dataset.py.
# Installs the two packages (and python3) with apt-get only when missing. The data are not committed.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_FOLDER" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

missing=()
for pkg in manpages manpages-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg -L manpages manpages-dev | grep -E '^/usr/share/man/man[0-9][^/]*/[^/]+\.gz$' > "$work/pages.txt"
root=/
# Minimal images (Docker's Debian) tell dpkg not to unpack /usr/share/man: then take the pages from the .debs.
if ! [ -e "$(head -n 1 "$work/pages.txt")" ]; then
  echo "the manual pages are not on disk (dpkg path-exclude?); unpacking the packages instead" >&2
  (cd "$work" && apt-get download manpages manpages-dev >&2)
  mkdir -p "$work/root"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  root=$work/root
fi

python3 "$here/manpages_dataset.py" --list "$work/pages.txt" --root "$root" --out "$out"
echo "data set written to $out" >&2
