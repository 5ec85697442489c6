#!/usr/bin/env python3
"""Builds an extreme multi-label data set from the WordNet 3.0 database files (Debian's wordnet-base).

A point is a synset (nouns and verbs by default): its text is the synset's lemmas and its gloss (the
definition and the quoted examples), its labels are every hypernym (@) and instance-hypernym (@i) ancestor,
followed transitively, plus the synsets its domain pointers name (topic ;c, region ;r, usage ;u; not followed
further). Labels carried by more than --max-label-share of the training points (near-root ancestors such as
entity.n.01) are left out, then labels no training point carries; points left without a label are dropped.
The data files are parsed here as wndb(5) describes them: synset_offset lex_filenum ss_type w_cnt
word lex_id [...] p_cnt [ptr_symbol synset_offset pos source/target ...] [f_cnt + f_num w_num ...] | gloss.
A synset is keyed by its part of speech and the offset field (e.g. n00001740); the files are not seeked.

Writes, into the output folder:
  train.txt, test.txt   sparse bag-of-words (Extreme Classification Repository format) with word COUNTS as
                        values (xmc's data.weighting=auto applies tf-idf); vocabulary = words in >= 2
                        training points
  trn.json, tst.json    raw text, LF-* JSON lines (uid = synset name, title = lemmas, content = gloss,
                        target_ind, target_rel)
  lbl.json              one line per label: uid (synset name, e.g. "dog.n.01") and title (its lemmas)
  vocabulary.txt        feature id i is the word on line i
  stats.json            the statistics XMC papers report, and what was dropped
The split is fixed by a hash of the synset key: CRC-32 of e.g. "n02084071", 1 in --test-every goes to test.
Usage: wordnet_dataset.py --wordnet /usr/share/wordnet --out DIR [--pos noun,verb]
"""
import argparse
import json
import os
import re
import sys
import zlib
from collections import Counter

import dataset_files

POS_FILES = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
ANCESTOR_POINTERS = {"@", "@i"}
DOMAIN_POINTERS = {";c", ";r", ";u"}
WORD = re.compile(r"[a-z0-9]+")


class WordNetFormatError(Exception):
    pass


def key_of(pos, offset):
    """'n00001740': satellite adjectives (s) share the adjective file and key space."""
    return ("a" if pos == "s" else pos) + offset


def parse_data_line(line, path, number):
    """One synset: (key, lemmas, pointers [(symbol, target key)], gloss)."""
    body, bar, gloss = line.partition(" | ")
    if not bar:
        body, gloss = line.rstrip(" |\n"), ""
    f = body.split()
    try:
        offset, ss_type = f[0], f[2]
        w_cnt = int(f[3], 16)
        i = 4
        lemmas = []
        for _ in range(w_cnt):
            word = re.sub(r"\([a-z]+\)$", "", f[i])  # adjective markers (a), (p), (ip)
            lemmas.append(word.replace("_", " "))
            i += 2
        p_cnt = int(f[i])
        i += 1
        pointers = []
        for _ in range(p_cnt):
            symbol, target, pos = f[i], f[i + 1], f[i + 2]
            if len(target) != 8 or not target.isdigit() or len(f[i + 3]) != 4:
                raise ValueError(f"bad pointer {' '.join(f[i:i + 4])}")
            pointers.append((symbol, key_of(pos, target)))
            i += 4
        # verb frames (f_cnt + f_num w_num ...) follow; nothing of them is used
    except (IndexError, ValueError) as e:
        raise WordNetFormatError(f"{path}:{number}: not a wndb(5) data line ({e})") from None
    if len(offset) != 8 or not offset.isdigit() or ss_type not in "nvasr" or not lemmas:
        raise WordNetFormatError(f"{path}:{number}: not a wndb(5) data line (offset, type or words)")
    return key_of(ss_type, offset), lemmas, pointers, " ".join(gloss.split())


def read_data(folder, pos_name):
    path = os.path.join(folder, "data." + pos_name)
    synsets = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("  ") or not line.strip():  # the licence header
                continue
            key, lemmas, pointers, gloss = parse_data_line(line, path, number)
            synsets[key] = (lemmas, pointers, gloss)
    return synsets


def read_sense_names(folder, pos_name):
    """Synset key -> NLTK-style name 'lemma.n.NN' (its first lemma's sense number), from index.POS."""
    path = os.path.join(folder, "index." + pos_name)
    senses = {}
    if not os.path.exists(path):
        return senses
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, pos, synset_cnt, p_cnt = fields[0], fields[1], int(fields[2]), int(fields[3])
            offsets = fields[4 + p_cnt + 2:][:synset_cnt]
            for n, offset in enumerate(offsets, 1):
                senses[(key_of(pos, offset), lemma)] = n
    return senses


def synset_name(key, lemmas, senses):
    lemma = lemmas[0].replace(" ", "_")
    n = senses.get((key, lemma.lower()))
    return f"{lemma.lower()}.{key[0]}.{n:02d}" if n else f"{lemma.lower()}.{key}"


def ancestors(key, synsets, memo):
    """Every synset reachable by @ and @i pointers (transitively), without `key` itself."""
    if key in memo:
        return memo[key]
    memo[key] = set()  # guards against a cycle in damaged data
    result = set()
    for symbol, target in synsets[key][1]:
        if symbol in ANCESTOR_POINTERS and target in synsets:
            result.add(target)
            result |= ancestors(target, synsets, memo)
    result.discard(key)
    memo[key] = result
    return result


def tokens(text):
    return [w for w in WORD.findall(text.lower()) if len(w) > 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wordnet", default="/usr/share/wordnet", help="folder holding data.noun, data.verb, index.*")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pos", default="noun,verb", help="comma-separated of noun, verb, adj, adv (default noun,verb)")
    ap.add_argument("--test-every", type=int, default=5, help="1 synset in N goes to test (default 5: 80/20)")
    ap.add_argument("--max-label-share", type=float, default=0.1,
                    help="leave out labels carried by more than this share of training points (default 0.1)")
    a = ap.parse_args()

    pos_names = [p.strip() for p in a.pos.split(",") if p.strip()]
    for p in pos_names:
        if p not in POS_FILES:
            ap.error(f"--pos: '{p}' is not one of {', '.join(POS_FILES)}")
    synsets, senses = {}, {}
    for p in pos_names:
        synsets.update(read_data(a.wordnet, p))
        senses.update(read_sense_names(a.wordnet, p))
    names = {k: synset_name(k, v[0], senses) for k, v in synsets.items()}

    memo = {}
    raw_labels = {}
    for key in sorted(synsets):
        labels = set(ancestors(key, synsets, memo))
        labels |= {t for s, t in synsets[key][1] if s in DOMAIN_POINTERS and t in synsets and t != key}
        raw_labels[key] = labels
    is_test = lambda key: zlib.crc32(key.encode("ascii")) % a.test_every == 0
    train_keys = [k for k in sorted(synsets) if not is_test(k)]
    test_keys = [k for k in sorted(synsets) if is_test(k)]

    train_count = Counter(l for k in train_keys for l in raw_labels[k])
    all_labels = {l for k in synsets for l in raw_labels[k]}
    limit = a.max_label_share * len(train_keys)
    frequent = sorted((l for l, c in train_count.items() if c > limit), key=lambda l: (-train_count[l], l))
    absent = sorted(l for l in all_labels if train_count[l] == 0)
    kept = sorted(l for l, c in train_count.items() if c <= limit)
    label_id = {l: i for i, l in enumerate(kept)}

    def points(keys):
        result, empty = [], 0
        for k in keys:
            ids = sorted(label_id[l] for l in raw_labels[k] if l in label_id)
            if ids:
                lemmas, _, gloss = synsets[k]
                result.append((k, ", ".join(lemmas), gloss, ids))
            else:
                empty += 1
        return result, empty

    train, train_empty = points(train_keys)
    test, test_empty = points(test_keys)

    text_tokens = lambda p: tokens(p[1] + " " + p[2])
    df = Counter()
    for p in train:
        df.update(set(text_tokens(p)))
    vocabulary = sorted(w for w, c in df.items() if c >= 2)
    feature_id = {w: i for i, w in enumerate(vocabulary)}

    os.makedirs(a.out, exist_ok=True)

    def write_atomically(name, lines):
        dataset_files.write_atomically(a.out, name, lines)

    def bow_lines(split):
        yield f"{len(split)} {len(vocabulary)} {len(kept)}"
        for p in split:
            tf = Counter(feature_id[t] for t in text_tokens(p) if t in feature_id)
            features = " ".join(f"{f}:{tf[f]}" for f in sorted(tf))
            yield f"{','.join(map(str, p[3]))} {features}".rstrip()

    def json_lines(split):
        for p in split:
            yield json.dumps({"uid": names[p[0]], "title": p[1], "content": p[2], "target_ind": p[3],
                              "target_rel": [1.0] * len(p[3])}, ensure_ascii=False)

    write_atomically("train.txt", bow_lines(train))
    write_atomically("test.txt", bow_lines(test))
    write_atomically("trn.json", json_lines(train))
    write_atomically("tst.json", json_lines(test))
    write_atomically("lbl.json", (json.dumps({"uid": names[l], "title": ", ".join(synsets[l][0])}, ensure_ascii=False)
                                  for l in kept))
    write_atomically("vocabulary.txt", vocabulary)

    kept_train_count = Counter(i for p in train for i in p[3])
    n_train, n_labels = len(train), len(kept)
    stats = {
        "parts_of_speech": pos_names, "synsets": len(synsets),
        "train_points": n_train, "test_points": len(test), "features": len(vocabulary), "labels": n_labels,
        "avg_labels_per_train_point": round(sum(len(p[3]) for p in train) / max(1, n_train), 3),
        "avg_labels_per_test_point": round(sum(len(p[3]) for p in test) / max(1, len(test)), 3),
        "avg_train_points_per_label": round(sum(kept_train_count.values()) / max(1, n_labels), 3),
        "share_of_labels_with_under_5_train_points": round(
            sum(1 for i in range(n_labels) if kept_train_count[i] < 5) / max(1, n_labels), 4),
        "avg_features_per_train_point": round(
            sum(len(set(feature_id[t] for t in text_tokens(p) if t in feature_id)) for p in train) / max(1, n_train), 3),
        "label_candidates": len(all_labels),
        "max_label_share": a.max_label_share,
        "label_share_limit_in_points": limit,
        "labels_dropped_as_too_frequent": len(frequent),
        "dropped_as_too_frequent": [[names[l], train_count[l]] for l in frequent],
        "labels_dropped_absent_from_train": len(absent),
        "train_points_dropped_without_labels": train_empty,
        "test_points_dropped_without_labels": test_empty,
        "test_every": a.test_every,
    }
    write_atomically("stats.json", [json.dumps(stats, indent=2)])
    json.dump(stats, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    try:
        main()
    except (WordNetFormatError, OSError) as e:
        print(f"wordnet_dataset.py: {e}", file=sys.stderr)
        sys.exit(2)
