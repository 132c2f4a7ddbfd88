"""Long-tailed routing dev sets built from endava and the support set, seeded, into /tmp.

Real assignment history is not endava's 8 balanced groups: one group holds near half the
tickets, the others fall off like a Zipf law, dozens hold a handful, some a single one;
labels are a few per cent wrong and many texts are a line. This script builds such
conditions from the data we have, so routing can be measured on them beside the original
sets (docs/BENCHMARKS.md, issue 18). Nothing is written into the repository:

    python -m bench.longtail_sets --out /tmp/longtail --seed 0

writes, per set, `<name>/train.jsonl` and `<name>/test.jsonl` (endava) or `<name>/all.jsonl`
(the support set, which must be split by near-duplicate cluster: `--split-by-cluster`), and
prints one JSON line per set with its group sizes.

- endava-longtail: endava's 8 topics split into 3 sub-groups each by k-means on TF-IDF
  (sub-teams of a topic, like "Hardware, laptops" and "Hardware, printers"), 24 groups;
  the dominant one holds 45 % of the tickets, the others Zipf sizes (exponent 2) in a seeded
  order, so the smallest hold 1 to 10 tickets. Test tickets follow the same shares.
- support-longtail: the support set's 10 queues, the largest as the dominant 45 %, the
  others Zipf sizes (exponent 2) capped by what the queue has.
Both: 3 % of labels replaced by another group, half the texts cut to their first 4-12
words, and a fifth of the words of a fifth of the tickets given a typo.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DATA_DIR, ENDAVA_DIR, SUPPORT_TICKETS, read_jsonl

DOMINANT_SHARE = 0.45
ZIPF_EXPONENT = 2.0
LABEL_NOISE = 0.03
SHORT_SHARE = 0.5
TYPO_SHARE = 0.2
SUBGROUPS_PER_TOPIC = 3
Record = dict[str, Any]


def zipf_sizes(total: int, groups: int) -> list[int]:
    """Group sizes: the first `DOMINANT_SHARE` of `total`, the rest ~ 1 / rank^exponent,
    each at least 1."""
    dominant = round(DOMINANT_SHARE * total)
    ranks = np.arange(1, groups, dtype=np.float64)
    weights = ranks**-ZIPF_EXPONENT
    rest = np.maximum(1, np.round(weights / weights.sum() * (total - dominant))).astype(int)
    return [dominant, *rest.tolist()]


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:  # swap two letters
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == 1:  # drop one
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double one


def noisy_text(record: Record, rng: np.random.Generator) -> Record:
    """Short and misspelt like a first-line agent types: cut, then typos."""
    words = f"{record.get('title') or ''} {record.get('description') or ''}".split()
    if rng.random() < SHORT_SHARE:
        words = words[: int(rng.integers(4, 13))]
    if rng.random() < TYPO_SHARE:
        words = [_typo(w, rng) if rng.random() < 0.2 else w for w in words]
    return {**record, "title": "", "description": " ".join(words)}


def with_label_noise(
    records: Sequence[Record], groups: Sequence[str], rng: np.random.Generator
) -> list[Record]:
    noisy: list[Record] = []
    for record in records:
        if rng.random() < LABEL_NOISE:
            others = [g for g in groups if g != record["team"]]
            record = {**record, "team": others[int(rng.integers(len(others)))]}
        noisy.append(record)
    return noisy


def draw(
    by_group: dict[str, list[Record]], sizes: dict[str, int], rng: np.random.Generator
) -> list[Record]:
    chosen: list[Record] = []
    for group in sorted(sizes):
        members = by_group[group]
        picks = rng.permutation(len(members))[: sizes[group]]
        chosen.extend(members[int(i)] for i in picks)
    return [chosen[int(i)] for i in rng.permutation(len(chosen))]


def degrade(records: Sequence[Record], groups: Sequence[str], seed: int) -> list[Record]:
    rng = np.random.default_rng(seed)
    return [noisy_text(r, rng) for r in with_label_noise(records, groups, rng)]


def endava_subgroups(
    train: list[Record], test: list[Record], seed: int
) -> tuple[list[Record], list[Record]]:
    """Each topic split into sub-groups by k-means on the TF-IDF of its training tickets."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    out_train: list[Record] = []
    out_test: list[Record] = []
    for topic in sorted({r["team"] for r in train}):
        topic_train = [r for r in train if r["team"] == topic]
        topic_test = [r for r in test if r["team"] == topic]
        vectorizer = TfidfVectorizer(min_df=3, sublinear_tf=True)
        features = vectorizer.fit_transform([r["description"] for r in topic_train])
        kmeans = KMeans(SUBGROUPS_PER_TOPIC, n_init=3, random_state=seed).fit(features)
        test_labels = kmeans.predict(vectorizer.transform([r["description"] for r in topic_test]))
        for records, labels, out in (
            (topic_train, kmeans.labels_, out_train),
            (topic_test, test_labels, out_test),
        ):
            out.extend(
                {**r, "team": f"{topic} {int(label) + 1}"}
                for r, label in zip(records, labels, strict=True)
            )
    return out_train, out_test


def assign_sizes(
    available: dict[str, int], sizes: Sequence[int], rng: np.random.Generator
) -> dict[str, int]:
    """Largest size first, each to a random group that still has that many tickets (else to
    the group with the most), so the dominant group is not always the same topic."""
    left = dict(available)
    chosen: dict[str, int] = {}
    for size in sorted(sizes, reverse=True):
        fits = sorted(g for g, n in left.items() if n >= size)
        group = fits[int(rng.integers(len(fits)))] if fits else max(left, key=lambda g: left[g])
        chosen[group] = min(size, left.pop(group))
    return chosen


def _by_group(records: Sequence[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record["team"]].append(record)
    return grouped


def endava_longtail(seed: int, train_size: int, test_size: int) -> tuple[list[Record], ...]:
    rng = np.random.default_rng(seed)
    train, test = endava_subgroups(
        list(read_jsonl(ENDAVA_DIR / "train.jsonl")),
        list(read_jsonl(ENDAVA_DIR / "test.jsonl")),
        seed,
    )
    train_groups, test_groups = _by_group(train), _by_group(test)
    sizes = assign_sizes(
        {g: len(m) for g, m in train_groups.items()}, zipf_sizes(train_size, len(train_groups)), rng
    )
    test_sizes = {
        g: min(len(test_groups[g]), round(n * test_size / train_size)) for g, n in sizes.items()
    }
    groups = sorted(sizes)
    return (
        degrade(draw(train_groups, sizes, rng), groups, seed + 1),
        degrade(draw(test_groups, test_sizes, rng), groups, seed + 2),
    )


def support_longtail(seed: int, size: int) -> list[Record]:
    rng = np.random.default_rng(seed)
    groups = _by_group(list(read_jsonl(SUPPORT_TICKETS)))
    order = sorted(groups, key=lambda g: (-len(groups[g]), g))
    largest = len(groups[order[0]])
    total = min(size, int(largest / DOMINANT_SHARE))
    sizes = {
        g: min(len(groups[g]), n) for g, n in zip(order, zipf_sizes(total, len(order)), strict=True)
    }
    return degrade(draw(groups, sizes, rng), sorted(sizes), seed + 1)


def write(folder: Path, name: str, records: Sequence[Record]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def describe(name: str, records: Sequence[Record]) -> dict[str, Any]:
    counts = Counter(r["team"] for r in records)
    sizes = sorted(counts.values(), reverse=True)
    return {
        "set": name,
        "tickets": len(records),
        "groups": len(counts),
        "dominant_share": round(sizes[0] / len(records), 3),
        "groups_1_to_10": sum(1 <= n <= 10 for n in sizes),
        "sizes": sizes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder for the sets.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--endava-train", type=int, default=4000)
    parser.add_argument("--endava-test", type=int, default=1500)
    parser.add_argument("--support", type=int, default=1400)
    args = parser.parse_args()
    if not DATA_DIR.is_dir():
        raise SystemExit(f"{DATA_DIR} not found: the shared data sets are needed.")
    train, test = endava_longtail(args.seed, args.endava_train, args.endava_test)
    write(args.out / "endava-longtail", "train.jsonl", train)
    write(args.out / "endava-longtail", "test.jsonl", test)
    support = support_longtail(args.seed, args.support)
    write(args.out / "support-longtail", "all.jsonl", support)
    for name, records in (
        ("endava-longtail/train", train),
        ("endava-longtail/test", test),
        ("support-longtail/all", support),
    ):
        print(json.dumps({**describe(name, records), "seed": args.seed}))


if __name__ == "__main__":
    main()
