"""The tagging prompt: instruction, similar examples with their gold JSON, then the post.

Change PROMPT_VERSION whenever a word here changes: it is part of every cache key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from mner.augment.chat import Message
from mner.augment.prompts import post_turn
from mner.data.post import Post

PROMPT_VERSION = "llm-ner.v1"
TYPE_HELP = {"PER": "person", "LOC": "location", "ORG": "organization",
             "MISC": "other named things: events, works, products, nationalities, hashtags naming them"}


def instruction(types: Sequence[str]) -> str:
    listed = "; ".join(f"{t} ({TYPE_HELP[t]})" if t in TYPE_HELP else t for t in types)
    return ("You find the named entities in social-media posts. Each post has a text and an image, which may be "
            "unrelated; use the image only as a hint. Entity types: " + listed + ". Answer with JSON only, in "
            'this form: {"entities": [{"text": "<the entity\'s words exactly as in the post>", "type": "<type>"}]}. '
            'List each entity once; answer {"entities": []} when the post names none.')


def gold_json(post: Post) -> str:
    entities = [{"text": " ".join(post.tokens[e.start : e.end]), "type": e.type} for e in post.entities]
    return json.dumps({"entities": entities}, ensure_ascii=False)


def tagging_messages(post: Post, examples: Sequence[Post], types: Sequence[str],
                     image_url: str | None = None) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": instruction(types)}]
    for example in examples:
        messages += [post_turn(example), {"role": "assistant", "content": gold_json(example)}]
    messages.append(post_turn(post, image_url))
    return messages
