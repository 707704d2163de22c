"""Small labelled posts built in code, for training tests (words from the tiny BERT's vocabulary)."""

from __future__ import annotations

from mner.data.post import Post

TEMPLATES = [
    (["alice", "smith", "wins", "in", "paris"], ["B-PER", "I-PER", "O", "O", "B-LOC"]),
    (["rt", "google", "and", "apple", "love", "london"], ["O", "B-ORG", "O", "B-ORG", "O", "B-LOC"]),
    (["bob", "at", "the", "festival", "in", "new", "york"], ["B-PER", "O", "O", "B-MISC", "O", "B-LOC", "I-LOC"]),
    (["fans", "love", "the", "game", "day"], ["O", "O", "O", "O", "O"]),
]


def make_posts(n: int = 4, prefix: str = "p") -> list[Post]:
    posts = []
    for i in range(n):
        tokens, tags = TEMPLATES[i % len(TEMPLATES)]
        tokens = [t.capitalize() if tag != "O" else t for t, tag in zip(tokens, tags)]
        posts.append(Post(id=f"{prefix}{i}", tokens=list(tokens), tags=list(tags),
                          visual_text={"caption": "a photo of people in a city"}))
    return posts
