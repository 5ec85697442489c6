#!/usr/bin/env python3
"""Builds a small extreme multi-label data set from Debian's manual pages.

A point is a page: its text is the NAME and DESCRIPTION sections, its labels are the pages named in its
SEE ALSO section (aliases, made by symbolic links or `.so` pages, resolved to the page they point at) plus
its manual section.
Writes, into the output folder:
  train.txt, test.txt        sparse bag-of-words (Extreme Classification Repository format), tf-idf
                             values (1 + ln tf)·idf, rows L2-normalised, vocabulary and idf from train only
  trn.json, tst.json         raw text, LF-* JSON lines (uid, title = NAME, content = DESCRIPTION,
                             target_ind, target_rel)
  lbl.json                   one line per label: uid (e.g. "open(2)") and title (the page's NAME line)
  vocabulary.txt             feature id i is the word on line i
  stats.json                 counts
The split is fixed by a hash of the page name (about 1 page in 5 goes to test).
Usage: manpages_dataset.py --list FILES.txt --root ROOT --out DIR
"""
import argparse
import gzip
import json
import math
import os
import re
import sys
import zlib
from collections import Counter

import dataset_files

FONT_MACROS = {"B", "I", "SM", "SB"}
ALTERNATING_MACROS = {"BR", "RB", "BI", "IB", "IR", "RI"}
SECTION_NAMES = {
    "1": "user commands", "2": "system calls", "3": "library calls", "4": "special files",
    "5": "file formats and conventions", "6": "games", "7": "overview, conventions and miscellany",
    "8": "system administration commands",
}
NAMED_CHARS = {"em": " - ", "en": "-", "aq": "'", "dq": '"', "lq": '"', "rq": '"', "oq": "'", "cq": "'",
               "mi": "-", "hy": "-", "bu": "*", "co": "(c)", "rg": "(R)", "ti": "~", "ha": "^", "pl": "+",
               "eq": "=", "lt": "<", "gt": ">", "<=": "<=", ">=": ">=", "mu": "x", "rs": "\\", "fo": "<<",
               "fc": ">>"}
REFERENCE = re.compile(r"([A-Za-z_][\w.:+-]*)\s*\((\d[a-z]*)\)")
WORD = re.compile(r"[a-z][a-z0-9_]+")


def unescape(text):
    """Turns roff escapes into plain text (fonts, sizes, strings and zero-width marks dropped)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = text[i + 1]
        i += 2
        if e == "f":  # font: \fB, \f(CW, \f[BI]
            if i < n and text[i] == "(":
                i += 3
            elif i < n and text[i] == "[":
                j = text.find("]", i)
                i = n if j < 0 else j + 1
            else:
                i += 1
        elif e == "s":  # size: \s0, \s-1, \s+2
            if i < n and text[i] in "+-":
                i += 1
            while i < n and text[i].isdigit():
                i += 1
        elif e == "(":  # \(xx named character
            out.append(NAMED_CHARS.get(text[i:i + 2], " "))
            i += 2
        elif e == "[":  # \[name]
            j = text.find("]", i)
            name = text[i:j] if j >= 0 else ""
            out.append(NAMED_CHARS.get(name, " "))
            i = n if j < 0 else j + 1
        elif e == "*":  # string: \*x, \*(xx, \*[name]
            if i < n and text[i] == "(":
                i += 3
            elif i < n and text[i] == "[":
                j = text.find("]", i)
                i = n if j < 0 else j + 1
            else:
                i += 1
        elif e in "-":
            out.append("-")
        elif e == "e":
            out.append("\\")
        elif e in " ~0":
            out.append(" ")
        elif e in "&|^%c)":
            pass
        elif e == '"':  # comment to end of line
            break
        else:
            out.append(e)
    return "".join(out)


def macro_args(rest):
    """Splits macro arguments: blanks separate, double quotes group ("" inside a quote is a quote)."""
    args, cur, quoted, i = [], [], False, 0
    while i < len(rest):
        c = rest[i]
        if quoted:
            if c == '"':
                if i + 1 < len(rest) and rest[i + 1] == '"':
                    cur.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                cur.append(c)
        elif c == '"':
            quoted = True
        elif c in " \t":
            if cur:
                args.append("".join(cur))
                cur = []
        else:
            cur.append(c)
        i += 1
    if cur:
        args.append("".join(cur))
    return args


def sections(source):
    """Maps upper-case section names to their plain text (text lines and font macros' arguments)."""
    result, current = {}, None
    for line in source.splitlines():
        if line.startswith((".", "'")):
            body = line[1:].lstrip()
            if body.startswith('\\"'):
                continue
            name, _, rest = body.partition(" ")
            if name in ("SH", "Sh"):
                current = " ".join(macro_args(unescape_keep_quotes(rest))).strip().upper()
                result.setdefault(current, [])
                continue
            if current is None:
                continue
            args = macro_args(rest)
            if name in FONT_MACROS:
                result[current].append(unescape(" ".join(args)))
            elif name in ALTERNATING_MACROS:
                result[current].append(unescape("".join(args)))
            elif name in ("SS", "IP", "TP", "PP", "P", "LP", "br", "sp"):
                result[current].append("\n")
                if name in ("SS", "IP") and args:
                    result[current].append(unescape(args[0]))
        elif current is not None:
            result[current].append(unescape(line))
    return {k: " ".join(" ".join(v).split()) for k, v in result.items()}


def unescape_keep_quotes(text):
    return unescape(text.replace('\\"', "\0")).replace("\0", '\\"')


def read_page(path):
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def page_key(path):
    """'open(2)' from /usr/share/man/man2/open.2.gz."""
    base = os.path.basename(path)[:-3]
    name, _, section = base.rpartition(".")
    return f"{name}({section})", name, section


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", required=True, help="file listing the page paths (as installed)")
    ap.add_argument("--root", default="/", help="folder the listed paths are under (default /)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--test-every", type=int, default=5, help="about 1 page in N goes to test (default 5)")
    a = ap.parse_args()

    with open(a.list, encoding="utf-8") as f:
        paths = sorted(p.strip() for p in f if p.strip())
    aliases, pages = {}, {}
    for p in paths:
        key, _, _ = page_key(p)
        full = os.path.join(a.root, p.lstrip("/"))
        if os.path.islink(full):  # Debian ships most alias pages as symbolic links
            aliases[key] = page_key(os.path.realpath(full))[0]
            continue
        source = read_page(full)
        first = source.lstrip().split("\n", 1)[0]
        if first.startswith(".so "):
            target = first[4:].strip()  # e.g. man2/open.2
            tname = os.path.basename(target)
            tn, _, ts = tname.rpartition(".")
            aliases[key] = f"{tn}({ts})"
            continue
        pages[key] = (p, sections(source))

    def canonical(ref):
        seen = set()
        while ref in aliases and ref not in seen:
            seen.add(ref)
            ref = aliases[ref]
        return ref

    points = []
    for key in sorted(pages):
        path, secs = pages[key]
        name_text = secs.get("NAME", "")
        description = secs.get("DESCRIPTION", "")
        if not (name_text or description):
            continue
        section = page_key(path)[2]
        labels = {f"section {section[0]}"}
        for m in REFERENCE.finditer(secs.get("SEE ALSO", "")):
            ref = canonical(f"{m.group(1)}({m.group(2)})")
            if ref != key:
                labels.add(ref)
        points.append((key, name_text, description, sorted(labels)))

    label_names = sorted({l for p in points for l in p[3]})
    label_id = {l: i for i, l in enumerate(label_names)}
    is_test = lambda key: zlib.crc32(key.encode()) % a.test_every == 0
    train = [p for p in points if not is_test(p[0])]
    test = [p for p in points if is_test(p[0])]

    tokens = lambda p: WORD.findall((p[1] + " " + p[2]).lower())
    df = Counter()
    for p in train:
        df.update(set(tokens(p)))
    vocabulary = sorted(w for w, c in df.items() if c >= 2)
    feature_id = {w: i for i, w in enumerate(vocabulary)}
    idf = [math.log((1 + len(train)) / (1 + df[w])) + 1 for w in vocabulary]

    os.makedirs(a.out, exist_ok=True)

    def write_atomically(name, lines):
        dataset_files.write_atomically(a.out, name, lines)

    def bow_lines(split):
        yield f"{len(split)} {len(vocabulary)} {len(label_names)}"
        for p in split:
            tf = Counter(feature_id[t] for t in tokens(p) if t in feature_id)
            weights = {f: (1 + math.log(c)) * idf[f] for f, c in tf.items()}
            norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
            labels = ",".join(str(label_id[l]) for l in p[3])
            features = " ".join(f"{f}:{weights[f] / norm:.6g}" for f in sorted(weights))
            yield f"{labels} {features}".rstrip()

    def json_lines(split):
        for p in split:
            ids = [label_id[l] for l in p[3]]
            yield json.dumps({"uid": p[0], "title": p[1], "content": p[2], "target_ind": ids,
                              "target_rel": [1.0] * len(ids)}, ensure_ascii=False)

    def label_title(l):
        if l.startswith("section "):
            s = l.split()[1]
            return f"manual section {s}: {SECTION_NAMES.get(s, 'other')}"
        return pages[l][1].get("NAME", l) if l in pages else l

    write_atomically("train.txt", bow_lines(train))
    write_atomically("test.txt", bow_lines(test))
    write_atomically("trn.json", json_lines(train))
    write_atomically("tst.json", json_lines(test))
    write_atomically("lbl.json", (json.dumps({"uid": l, "title": label_title(l)}, ensure_ascii=False) for l in label_names))
    write_atomically("vocabulary.txt", vocabulary)

    train_label_count = Counter(l for p in train for l in p[3])
    stats = {
        "pages_read": len(paths), "aliases": len(aliases), "points": len(points),
        "train_points": len(train), "test_points": len(test), "features": len(vocabulary),
        "labels": len(label_names),
        "labels_seen_in_train": len(train_label_count),
        "mean_labels_per_point": round(sum(len(p[3]) for p in points) / max(1, len(points)), 3),
        "points_with_see_also": sum(1 for p in points if len(p[3]) > 1),
        "most_frequent_train_labels": train_label_count.most_common(5),
    }
    write_atomically("stats.json", [json.dumps(stats, indent=2)])
    json.dump(stats, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
