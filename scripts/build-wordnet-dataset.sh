#!/usr/bin/env bash
# Builds the WordNet extreme multi-label data set into the folder given as argument: one point per noun and
# verb synset, text = lemmas + gloss, labels = all hypernym / instance-hypernym ancestors plus domain synsets,
# labels on more than 10% of training points left out. Writes the sparse bag-of-words format with word counts
# (train.txt, test.txt), the LF-* JSON-lines format (trn.json, tst.json, lbl.json), vocabulary.txt and
# stats.json; see scripts/wordnet_dataset.py (its options can follow OUT, e.g. --pos noun,verb,adj,adv).
# Installs Debian's wordnet-base (WordNet 3.0, /usr/share/wordnet) and python3 with apt-get only when missing.
# The data are not committed.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 OUT_FOLDER [wordnet_dataset.py options]" >&2
  exit 2
fi
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
wordnet=${WORDNET_DIR:-/usr/share/wordnet}

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

missing=()
[ -e "$wordnet/data.noun" ] || missing+=(wordnet-base)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if ! [ -e "$wordnet/data.noun" ]; then
  echo "$wordnet/data.noun not found after installing wordnet-base (set WORDNET_DIR to the database folder)" >&2
  exit 1
fi

python3 "$here/wordnet_dataset.py" --wordnet "$wordnet" --out "$out" "$@"
echo "data set written to $out" >&2
