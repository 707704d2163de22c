"""How often a context names a post's gold entities: labelled neighbours against LLM knowledge.

    mner index build ../shared/data/twitter2017/train.txt --to runs/idx-t17-text
    python scripts/context_coverage.py --index runs/idx-t17-text --data ../shared/data/twitter2017/valid.txt \
        --knowledge ../shared/data/knowledge/pgim_chatgpt_twitter2017_valid.jsonl

An index keyed by caption or knowledge (`mner index build ... --key caption --captions F`) is
queried with the scored posts' own caption (`--captions`) or knowledge (`--knowledge`).

For every gold entity of the scored posts: is its name (lower-cased words), with its type, among
the gold entities of the post's k nearest training posts (what `context.neighbours.v1` writes),
and is its name in the post's knowledge text. A context that never names an entity can only
help through the kind of post it describes.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="an `mner index build` directory over the training posts")
    parser.add_argument("--data", required=True, help="labelled posts (e.g. dev)")
    parser.add_argument("--knowledge", help="knowledge JSONL for those posts (also the query of a knowledge index)")
    parser.add_argument("--captions", help="captions for those posts (the query of a caption index)")
    parser.add_argument("--k", type=int, default=3, help="neighbours per post (the grid's 3)")
    args = parser.parse_args()

    from mner.data.readers import read_posts, read_visual_text
    from mner.data.readers.visual_text import attach_visual_text
    from mner.retrieval.index import PostIndex

    posts = read_posts(args.data)
    knowledge = read_visual_text(args.knowledge) if args.knowledge else None
    if knowledge is not None:  # an index keyed by knowledge or caption is queried with the post's own
        attach_visual_text(posts, knowledge, "knowledge")
    if args.captions:
        attach_visual_text(posts, args.captions, "caption")
    counts = coverage(PostIndex.load(args.index), posts, knowledge, args.k)
    total = counts["entities"]
    if not total:
        raise SystemExit(f"{args.data}: no gold entities to count (unlabelled posts?)")
    print(f"{args.data}: {total} gold entities in {len(posts)} posts")
    print(f"  among the {args.k} neighbours' gold entities: {counts['with_type'] / total:.1%} with its type, "
          f"{counts['by_name'] / total:.1%} by name")
    if knowledge is not None:
        print(f"  in the post's knowledge text: {counts['in_knowledge'] / total:.1%} "
              f"(knowledge for {counts['posts_with_knowledge']} of {len(posts)} posts)")


def coverage(index, posts, knowledge, k):
    """Counts of gold entities named by the k neighbours (with their type / by name) and by the knowledge."""
    from mner.data.readers.visual_text import text_for_post
    from mner.data.tags import bio_to_spans

    counts = dict.fromkeys(("entities", "with_type", "by_name", "in_knowledge", "posts_with_knowledge"), 0)
    for post, hits in zip(posts, index.search(posts, k)):
        named = {(" ".join(index.bank[row].tokens[s:e]).lower(), t)
                 for row, _ in hits for s, e, t in bio_to_spans(index.bank[row].tags)}
        names = {name for name, _ in named}
        text = text_for_post(post, knowledge or {})
        counts["posts_with_knowledge"] += text is not None
        text = (text or "").lower()
        for s, e, entity_type in bio_to_spans(post.tags):
            name = " ".join(post.tokens[s:e]).lower()
            counts["entities"] += 1
            counts["with_type"] += (name, entity_type) in named
            counts["by_name"] += name in names
            counts["in_knowledge"] += bool(text) and name in text
    return counts


if __name__ == "__main__":
    main()
