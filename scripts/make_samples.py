"""Generate the bundled sample posts (the toolkit's built-in default dataset).

    python scripts/make_samples.py

Writes src/mner/samples/{train,dev}.jsonl and src/mner/samples/images/*.jpg
and nothing else. Deterministic: the same code and Pillow give the same
bytes. Texts come from `sample_texts.py` (ours); images are drawn shapes.
"""

from __future__ import annotations

import io
import json
import random
import re
import sys
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from mner.data.post import Entity, Post  # noqa: E402
from mner.data.tags import bio_to_spans  # noqa: E402
from sample_texts import DEV_ONLY_FILLERS, EMOJI, FILLERS, HANDLES, TEMPLATES, Template  # noqa: E402

SEED = 2015
SAMPLES_DIR = ROOT / "src" / "mner" / "samples"
IMAGES_DIR = SAMPLES_DIR / "images"
SPLITS = {"train": 400, "dev": 100}  # posts per split, in this order
DEV_ONLY_SHARE = 0.5  # chance that a dev slot takes a dev-only name
DEV_TEMPLATE_SHARE = 0.3  # chance that a dev post uses a dev-only template
LOWERCASE_SHARE = 0.08  # posts typed entirely in lower case
PNG_QUIRK_POST = 7  # the 7th post with an image gets a PNG stream in its .jpg

# Entity slots {TYPE[.kind][n][:style]} and plain placeholders {@} {URL} {EMO} {NUM}.
SLOT_RE = re.compile(
    r"""\{(?:
        (?P<type>PER|LOC|ORG|MISC)(?:\.(?P<kind>[a-z]+))?(?P<n>\d)?(?::(?P<style>\#|lower))?
        | (?P<plain>@|URL|EMO|NUM)
    )\}""",
    re.VERBOSE,
)
# Twitter-dataset style tokens: links, @handles and #hashtags whole, words
# with inner apostrophes whole, a clitic like 's alone, then runs of one
# repeated symbol ("!!!", "😂😂") as one token.
TOKEN_RE = re.compile(r"https?://\S+|[@#]\w+|\w+(?:'\w+)*|'\w+|([^\w\s])\1*")


def tokenize(text: str) -> list[str]:
    return [m.group(0) for m in TOKEN_RE.finditer(text)]


def hashtag(name: str) -> str:
    return "#" + "".join(ch for ch in name if ch.isalnum())


@dataclass
class Filled:
    tokens: list[str]
    tags: list[str]
    caption: str
    types: set[str]


class Filler:
    """Chooses names for slots; dev may draw from dev-only lists."""

    def __init__(self, rng: random.Random, split: str) -> None:
        self.rng = rng
        self.split = split

    def name(self, key: str, taken: set[str]) -> str:
        pool = FILLERS[key]
        if self.split == "dev" and key in DEV_ONLY_FILLERS and self.rng.random() < DEV_ONLY_SHARE:
            pool = DEV_ONLY_FILLERS[key]
        choices = [n for n in pool if n not in taken] or pool
        return self.rng.choice(choices)

    def plain(self, kind: str) -> str:
        if kind == "@":
            return self.rng.choice(HANDLES)
        if kind == "URL":
            alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            return "http://t.co/" + "".join(self.rng.choice(alphabet) for _ in range(10))
        if kind == "EMO":
            return self.rng.choice(EMOJI)
        return str(self.rng.choice([2, 3, 5, 7, 8, 10, 12, 20, 31, 45]))


def fill(template: Template, filler: Filler, lowercase: bool) -> Filled:
    """Tokens and BIO tags of one post from a template, plus its caption."""
    names: dict[str, str] = {}  # slot key (e.g. "ORG.team2") -> chosen name
    tokens: list[str] = []
    tags: list[str] = []
    types: set[str] = set()

    def literal(text: str) -> None:
        words = tokenize(text)
        tokens.extend(words)
        tags.extend(["O"] * len(words))

    position = 0
    for match in SLOT_RE.finditer(template.text):
        literal(template.text[position : match.start()])
        position = match.end()
        if match["plain"]:
            literal(filler.plain(match["plain"]))
            continue
        entity_type = match["type"]
        pool_key = entity_type + (f".{match['kind']}" if match["kind"] else "")
        slot_key = pool_key + (match["n"] or "")
        if slot_key not in names:
            names[slot_key] = filler.name(pool_key, set(names.values()))
        name = names[slot_key]
        if match["style"] == "#":
            words = [hashtag(name)]
        else:
            words = tokenize(name.lower() if match["style"] == "lower" else name)
        tokens.extend(words)
        tags.extend([f"B-{entity_type}"] + [f"I-{entity_type}"] * (len(words) - 1))
        types.add(entity_type)
    literal(template.text[position:])

    if lowercase:
        tokens = [t if t.startswith("http") else t.lower() for t in tokens]  # links are pasted, not typed
    caption = filler.rng.choice(template.captions)
    for slot_key, name in names.items():
        caption = caption.replace("{" + slot_key + "}", name)
    assert "{" not in caption, f"caption slot missing from text: {caption}"
    return Filled(tokens, tags, caption, types)


# ---------------------------------------------------------------- images

TYPE_COLOURS = {"PER": (214, 96, 77), "LOC": (88, 160, 96), "ORG": (70, 110, 190), "MISC": (220, 180, 60)}
NO_ENTITY_COLOUR = (150, 150, 150)
THEMES = ("person", "crowd", "city", "stadium", "food", "product", "screen", "nature", "stage", "poster")


def background(types: set[str], rng: random.Random) -> tuple[int, int, int]:
    """Mean colour of the post's entity types, jittered: the image 'knows' the types."""
    colours = [TYPE_COLOURS[t] for t in sorted(types)] or [NO_ENTITY_COLOUR]
    return tuple(
        max(0, min(255, sum(c[i] for c in colours) // len(colours) + rng.randint(-20, 20))) for i in range(3)
    )  # type: ignore[return-value]


def random_colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))


def draw_theme(draw: ImageDraw.ImageDraw, theme: str, w: int, h: int, rng: random.Random) -> None:
    """A few shapes that stand for the caption's scene."""
    if theme == "person":
        cx = rng.randint(w // 3, 2 * w // 3)
        draw.ellipse([cx - w // 8, h // 6, cx + w // 8, h // 6 + w // 4], fill=(240, 205, 170))
        draw.rectangle([cx - w // 5, h // 6 + w // 4, cx + w // 5, h], fill=random_colour(rng))
    elif theme == "crowd":
        for _ in range(rng.randint(6, 12)):
            x, y = rng.randint(0, w), rng.randint(h // 3, h)
            draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=random_colour(rng))
    elif theme == "city":
        x = 0
        while x < w:
            bw, bh = rng.randint(8, 18), rng.randint(h // 4, 3 * h // 4)
            draw.rectangle([x, h - bh, x + bw, h], fill=(60, 60, 70 + rng.randint(0, 60)))
            x += bw + rng.randint(1, 4)
    elif theme == "stadium":
        draw.ellipse([4, h // 3, w - 4, h - 4], fill=(40, 150, 60))
        draw.line([w // 2, h // 3, w // 2, h - 4], fill=(255, 255, 255), width=2)
    elif theme == "food":
        draw.ellipse([w // 6, h // 6, 5 * w // 6, 5 * h // 6], fill=(245, 245, 240))
        for _ in range(rng.randint(3, 6)):
            x, y = rng.randint(w // 3, 2 * w // 3), rng.randint(h // 3, 2 * h // 3)
            draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=random_colour(rng))
    elif theme == "product":
        draw.rounded_rectangle([w // 3, h // 8, 2 * w // 3, 7 * h // 8], radius=6, fill=(30, 30, 35))
        draw.rectangle([w // 3 + 4, h // 8 + 6, 2 * w // 3 - 4, 7 * h // 8 - 8], fill=random_colour(rng))
    elif theme == "screen":
        draw.rectangle([6, 6, w - 6, h - 14], fill=(20, 20, 30))
        for row in range(12, h - 20, 8):
            draw.line([12, row, rng.randint(w // 3, w - 12), row], fill=(200, 200, 210), width=2)
    elif theme == "nature":
        draw.ellipse([w - 30, 6, w - 8, 28], fill=(255, 220, 90))
        draw.polygon([(0, h), (w // 3, h // 2), (2 * w // 3, 3 * h // 4), (w, h // 2), (w, h)], fill=(50, 110, 70))
    elif theme == "stage":
        draw.rectangle([0, 3 * h // 4, w, h], fill=(90, 50, 30))
        for x in (w // 4, 3 * w // 4):
            draw.polygon([(x, 0), (x - 14, 3 * h // 4), (x + 14, 3 * h // 4)], fill=(255, 250, 200))
    elif theme == "poster":
        draw.rectangle([w // 6, h // 10, 5 * w // 6, 9 * h // 10], fill=random_colour(rng), outline=(0, 0, 0))
        for row in range(h // 2, 8 * h // 10, 7):
            draw.line([w // 4, row, 3 * w // 4, row], fill=(255, 255, 255), width=3)
    else:
        raise ValueError(f"unknown theme {theme!r}")


def draw_image(name: str, theme: str, types: set[str]) -> Image.Image:
    rng = random.Random(zlib.crc32(name.encode()))  # per-file seed: stable whatever else changes
    w, h = rng.choice([64, 72, 80, 96]), rng.choice([64, 72, 80, 96])
    image = Image.new("RGB", (w, h), background(types, rng))
    draw_theme(ImageDraw.Draw(image), theme, w, h, rng)
    return image


def encode(image: Image.Image, as_png: bool) -> bytes:
    buffer = io.BytesIO()
    if as_png:
        image.save(buffer, format="PNG", optimize=True)
    else:
        image.save(buffer, format="JPEG", quality=70, optimize=True)
    return buffer.getvalue()


# ---------------------------------------------------------------- posts


def image_counts(n: int, rng: random.Random) -> list[int]:
    """Exactly 80% one image, 10% two, 10% none, in shuffled order."""
    counts = [2] * (n // 10) + [0] * (n // 10)
    counts += [1] * (n - len(counts))
    rng.shuffle(counts)
    return counts


def choose_templates(split: str, n: int, rng: random.Random) -> list[Template]:
    shared = [t for t in TEMPLATES if not t.dev_only]
    if split == "train":
        # Cycle through shuffled templates so every one is used about equally.
        order: list[Template] = []
        while len(order) < n:
            order += rng.sample(shared, len(shared))
        return order[:n]
    dev_only = [t for t in TEMPLATES if t.dev_only]
    return [rng.choice(dev_only if rng.random() < DEV_TEMPLATE_SHARE else shared) for _ in range(n)]


@dataclass
class Drawing:
    """What one image file shows; encoded once all posts exist."""

    theme: str
    types: set[str]


def make_split(split: str, n: int, first_number: int, rng: random.Random, drawings: dict[str, Drawing]) -> list[Post]:
    posts = []
    filler = Filler(rng, split)
    for i, (template, n_images) in enumerate(zip(choose_templates(split, n, rng), image_counts(n, rng))):
        post_id = f"s{first_number + i:04d}"
        filled = fill(template, filler, lowercase=rng.random() < LOWERCASE_SHARE)
        names = [f"{post_id}.jpg", f"{post_id}_2.jpg"][:n_images]
        for k, name in enumerate(names):
            # A second image shows another scene of the same post.
            theme = template.theme if k == 0 else rng.choice(THEMES)
            drawings[name] = Drawing(theme, filled.types)
        posts.append(
            Post(
                id=post_id,
                tokens=filled.tokens,
                tags=filled.tags,
                images=names,
                # The caption describes the (first) image, so image-less posts have none.
                visual_text={"caption": filled.caption} if names else {},
                entities=[Entity(s, e, t) for s, e, t in bio_to_spans(filled.tags)],
            )
        )
    return posts


def png_quirk_name(train: list[Post]) -> str:
    """The one image stored as a PNG stream under its .jpg name, like files in the real datasets."""
    return [p for p in train if p.images][PNG_QUIRK_POST - 1].images[0]


def write(posts_by_split: dict[str, list[Post]], images: dict[str, bytes]) -> None:
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    for stale in IMAGES_DIR.glob("*.jpg"):  # only files this script made
        stale.unlink()
    for name, data in sorted(images.items()):
        (IMAGES_DIR / name).write_bytes(data)
    for split, posts in posts_by_split.items():
        lines = [json.dumps(p.to_dict(), ensure_ascii=False) for p in posts]
        (SAMPLES_DIR / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def summary(posts_by_split: dict[str, list[Post]], images: dict[str, bytes]) -> str:
    lines = []
    for split, posts in posts_by_split.items():
        types = Counter(e.type for p in posts for e in p.entities)
        n_images = Counter(len(p.images) for p in posts)
        lines.append(
            f"{split}: {len(posts)} posts, {sum(len(p.tokens) for p in posts)} tokens, "
            f"entities {dict(sorted(types.items()))} (total {sum(types.values())}), "
            f"posts by image count {dict(sorted(n_images.items()))}"
        )
    lines.append(f"images: {len(images)} files, {sum(len(b) for b in images.values())} bytes")
    return "\n".join(lines)


def main() -> None:
    rng = random.Random(SEED)
    drawings: dict[str, Drawing] = {}
    posts_by_split: dict[str, list[Post]] = {}
    first = 1
    for split, n in SPLITS.items():
        posts_by_split[split] = make_split(split, n, first, rng, drawings)
        first += n
    png_name = png_quirk_name(posts_by_split["train"])
    images = {
        name: encode(draw_image(name, d.theme, d.types), as_png=name == png_name) for name, d in drawings.items()
    }
    write(posts_by_split, images)
    print(summary(posts_by_split, images))
    print(f"PNG stream saved as {png_name}")


if __name__ == "__main__":
    main()
