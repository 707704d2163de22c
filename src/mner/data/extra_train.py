"""`data.extra_train`: more labelled posts for training only, from other files and formats.

    data:
      format: gmner
      train: twitter_gmner/train.txt
      dev: twitter_gmner/dev.txt
      extra_train:                      # read like data.train, each with its own format and inputs
        - path: twitter2017/train.txt
          format: twitter
          visual_text: {knowledge: pgim_chatgpt_twitter2017_train.jsonl}
          exclude: [twitter_gmner/test.txt]   # files whose posts must never train (a test split that
                                              # shares posts with this file)

Why: the field's datasets share posts (Twitter-GMNER's posts are Twitter-2015's and Twitter-2017's),
so a user holds more MNER-labelled posts than the grounded set; training on them is free accuracy,
and the one way to lose a benchmark's honesty is a dev or test post coming back under another file.
Hence the policy, checked here for every extra post:

- a post with the id or the words of a training post is dropped (the training file's own copy,
  with its annotation, wins);
- a post with the id or the words of a dev post is dropped (dev never trains);
- a post with the id or the words of a post in its source's `exclude` files is dropped;
- an empty post is dropped (nothing to learn).

The extra posts' entities say nothing about the image (`Post.grounding_annotated` is False), so a
grounding head learns only the tagging from them, never "not groundable". The visual texts, images
and regions they read come from their own source entry, and the regions folder is `data.regions`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from mner.data.post import Post

SOURCE_KEYS = ("path", "format", "visual_text", "images", "type_map", "exclude")


def source_list(data_cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """`data.extra_train` checked: a list of mappings, each with a path and only known keys."""
    sources = data_cfg.get("extra_train") or []
    if not isinstance(sources, list):
        raise ValueError(f"data.extra_train must be a list of sources ({{path: FILE, format: ...}}), not {sources!r}")
    for k, source in enumerate(sources):
        if not isinstance(source, dict) or not isinstance(source.get("path"), str) or not source["path"]:
            raise ValueError(f"data.extra_train[{k}] must be a mapping with a path (and optional "
                             f"{', '.join(SOURCE_KEYS[1:])}), not {source!r}")
        unknown = sorted(set(source) - set(SOURCE_KEYS))
        if unknown:
            raise ValueError(f"data.extra_train[{k}] ({source['path']}): unknown key(s) {', '.join(unknown)}; "
                             f"known: {', '.join(SOURCE_KEYS)}")
        exclude = source.get("exclude") or []
        if not isinstance(exclude, list) or not all(isinstance(p, str) and p for p in exclude):
            raise ValueError(f"data.extra_train[{k}].exclude must be a list of files, not {exclude!r}")
    return sources


def held_keys(posts: list[Post]) -> tuple[set[str], set[tuple[str, ...]]]:
    """The ids and the word sequences of `posts`: what an extra post may not repeat."""
    return {p.id for p in posts}, {tuple(p.tokens) for p in posts}


def load_extra_train(data_cfg: dict[str, Any], train: list[Post], dev: list[Post],
                     log: Callable[[str], None] = print) -> list[Post]:
    """The extra training posts of `data.extra_train`, after the policy above (each drop logged)."""
    from mner.data.loading import load_posts
    from mner.data.readers import read_posts

    regions = data_cfg.get("regions") or {}
    train_ids, train_words = held_keys(train)
    dev_ids, dev_words = held_keys(dev)
    extra: list[Post] = []
    seen_ids: set[str] = set()  # the extra posts' ids so far: a later source repeating one is dropped
    for k, source in enumerate(source_list(data_cfg)):
        posts = load_posts(source["path"], source.get("format"), images_dir=source.get("images"),
                           type_map=source.get("type_map", data_cfg.get("type_map")),
                           visual_text=source.get("visual_text") or {},
                           regions_dir=regions.get("dir"), regions_top_k=regions.get("top_k"))
        excluded_ids, excluded_words = held_keys([p for path in source.get("exclude") or [] for p in read_posts(path)])
        counts = dict.fromkeys(("in train", "in dev", "in an exclude file", "given by an earlier source", "empty"), 0)
        for post in posts:
            words = tuple(post.tokens)
            if not post.tokens:
                counts["empty"] += 1
            elif post.id in dev_ids or words in dev_words:
                counts["in dev"] += 1
            elif post.id in excluded_ids or words in excluded_words:
                counts["in an exclude file"] += 1
            elif post.id in train_ids or words in train_words:
                counts["in train"] += 1
            elif post.id in seen_ids:
                counts["given by an earlier source"] += 1
            else:
                extra.append(dataclasses.replace(post, grounding_annotated=False))
                seen_ids.add(post.id)
        dropped = ", ".join(f"{n} {why}" for why, n in counts.items() if n)
        log(f"data.extra_train[{k}] {source['path']}: {len(posts) - sum(counts.values())} of {len(posts)} posts "
            f"added{f' (dropped: {dropped})' if dropped else ''}")
    return extra
