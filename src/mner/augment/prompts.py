"""The PGIM-style knowledge prompt (Li et al., EMNLP Findings 2023), written anew.

PGIM's design, kept here: a head that states the task (find the named entities of a
Twitter post, person / location / organization / miscellaneous, use the image only as
auxiliary information because text and image are often unrelated, explain each entity),
then similar examples with their answers, then the post as ``Text:`` and ``Image:``.
The answer has PGIM's shape: ``Named entities: 1. X (type) ... Reasoning: ...``; that is
the "auxiliary refined knowledge" the context-fusion model reads as a second segment.

Examples are chat turns (user: the example post, assistant: its answer). An example's
answer is its hand-written knowledge when the examples file provides one (PGIM's
predefined artificial samples are exactly that), else it is made from the gold
entities. The post's image goes as a data URL when the model takes images; otherwise,
as in PGIM, its caption stands for it.

Change PROMPT_VERSION whenever a word here changes: it is part of every cache key and
written on every output line.
"""

from __future__ import annotations

from collections.abc import Sequence

from mner.augment.chat import Message
from mner.data.post import Post

PROMPT_VERSION = "pgim-knowledge.v1"
TYPE_WORDS = {"PER": "person", "LOC": "location", "ORG": "organization", "MISC": "miscellaneous",
              "OTHER": "miscellaneous"}
NO_IMAGE = "(no image)"

HEAD = (
    "Here are posts people wrote on Twitter; each has a text and an image. The text and the image are not "
    "necessarily related. Find the named entities in the text: persons, locations, organizations and "
    "miscellaneous named things (events, works, products, hashtags naming them). Use the image only as "
    "auxiliary information. Answer in this form: 'Named entities: 1. <entity> (<what it is>) 2. ... "
    "Reasoning: <what each entity is, and how the text and the image relate>'. If the text names no "
    "entity, say so and explain briefly."
)


def entity_words(post: Post) -> list[tuple[str, str]]:
    """(surface text, type) of the post's gold entities, in order."""
    return [(" ".join(post.tokens[e.start : e.end]), e.type) for e in post.entities]


def gold_answer(post: Post) -> str:
    """An example's answer when it has no hand-written knowledge: the gold entities, PGIM's form."""
    entities = entity_words(post)
    if not entities:
        return "Named entities may not be present in this text."
    listed = " ".join(f"{i}. {text} ({TYPE_WORDS.get(kind, kind.lower())})"
                      for i, (text, kind) in enumerate(entities, start=1))
    return f"Named entities: {listed}"


def post_turn(post: Post, image_url: str | None = None) -> Message:
    """The user turn for one post: its text, then its image (data URL) or caption."""
    text = f"Text: {' '.join(post.tokens)}"
    if image_url is not None:
        return {"role": "user", "content": [{"type": "text", "text": f"{text}\nImage: (attached)"},
                                            {"type": "image_url", "image_url": {"url": image_url}}]}
    caption = post.visual_text.get("caption") or NO_IMAGE
    return {"role": "user", "content": f"{text}\nImage: {caption}"}


def knowledge_messages(post: Post, examples: Sequence[Post], image_url: str | None = None) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": HEAD}]
    for example in examples:
        answer = example.visual_text.get("knowledge") or gold_answer(example)
        messages += [post_turn(example), {"role": "assistant", "content": answer}]
    messages.append(post_turn(post, image_url))
    return messages
