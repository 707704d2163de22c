"""How far two releases' tags agree on the posts they share: entity F1 of one against the other.

    python scripts/tag_agreement.py --reference ../shared/data/twitter_gmner/train.txt \\
        --reference ../shared/data/twitter_gmner/dev.txt \\
        --other ../shared/data/twitter2015/train.txt --other ../shared/data/twitter2015/valid.txt \\
        --other ../shared/data/twitter2017/train.txt --other ../shared/data/twitter2017/valid.txt

Posts are paired by id and scored only when their words are the same (a release that tokenises a
tweet differently cannot be compared tag for tag; those are counted). Types go through mner's type
map, so `OTHER` and `MISC` are one type. The F1 is the ceiling that training on the other release's
tags can reach when scored against the reference's, and its complement is the label noise it adds.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", action="append", required=True, help="labelled file(s) scored against")
    parser.add_argument("--other", action="append", required=True, help="labelled file(s) whose tags are scored")
    args = parser.parse_args()

    from mner.data.readers import read_posts
    from mner.metrics import entity_scores

    reference = {p.id: p for path in args.reference for p in read_posts(path)}
    gold, other, reworded, shared = [], [], 0, 0
    for path in args.other:
        for post in read_posts(path):
            ref = reference.get(post.id)
            if ref is None:
                continue
            shared += 1
            if ref.tokens != post.tokens:
                reworded += 1
                continue
            gold.append(ref.tags)
            other.append(post.tags)
    if not gold:
        raise SystemExit("no shared post with the same words in both: nothing to compare")
    scores = entity_scores(gold, other)
    print(f"{shared} shared posts; {len(gold)} with the same words, {reworded} tokenised differently")
    print(f"entity agreement (other against reference): F1 {scores.f1:.2f}  P {scores.precision:.2f}  "
          f"R {scores.recall:.2f}")


if __name__ == "__main__":
    main()
