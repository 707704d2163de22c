"""The model's answer: ``{"entities": [{"text": ..., "type": ...}]}``, validated with pydantic.

Chat models wrap JSON in prose or code fences, use Python literals, leave trailing commas,
or stop mid-answer at `max_tokens`. `repair_json` fixes what can be fixed without
guessing: it keeps the first JSON value in the text, normalises quotes and literals,
drops trailing commas, and closes a truncated answer after its last complete element.
Accepted shapes: the object above, a bare list of such objects, or PGIM's
``[["Kawhi Leonard", "PER"], ...]`` pairs.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.DOTALL)
TRAILING_COMMA = re.compile(r",\s*([}\]])")
SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


class EntityMention(BaseModel):
    text: str = Field(min_length=1)
    type: str = Field(min_length=1)

    @field_validator("text", "type")
    @classmethod
    def strip(cls, value: str) -> str:
        return value.strip()


class EntityAnswer(BaseModel):
    entities: list[EntityMention]


@dataclass
class ParsedAnswer:
    mentions: list[EntityMention] = field(default_factory=list)
    status: str = "valid"  # valid | repaired | invalid
    error: str | None = None


def parse_answer(text: str) -> ParsedAnswer:
    """Strict JSON first; else the repaired text; else `invalid` (no entities) with the reason."""
    try:
        return ParsedAnswer(validate(json.loads(text)).entities, "valid")
    except (json.JSONDecodeError, ValidationError, ValueError):
        pass
    repaired = repair_json(text)
    if repaired is None:
        return ParsedAnswer([], "invalid", f"no JSON value in the answer: {text[:80]!r}")
    try:
        return ParsedAnswer(validate(repaired).entities, "repaired")
    except (ValidationError, ValueError) as err:
        return ParsedAnswer([], "invalid", f"answer does not fit the schema: {str(err).splitlines()[0]}")


def validate(value: Any) -> EntityAnswer:
    if isinstance(value, list):
        value = {"entities": value}
    if isinstance(value, dict) and isinstance(value.get("entities"), list):
        value = {"entities": [pair_to_mention(e) for e in value["entities"]]}
    return EntityAnswer.model_validate(value)


def pair_to_mention(item: Any) -> Any:
    if isinstance(item, (list, tuple)) and len(item) == 2:
        return {"text": item[0], "type": item[1]}
    return item


def repair_json(text: str) -> Any | None:
    """The first JSON value in `text`, repaired; None when there is none to save."""
    fenced = FENCE.search(text)
    body = (fenced.group(1) if fenced else text).translate(SMART_QUOTES)
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if not starts:
        return None
    body = body[min(starts):]
    for candidate in candidates(body):
        for attempt in (candidate, TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                return json.loads(attempt)
            except json.JSONDecodeError:
                pass
            try:  # single quotes, None/True/False: a Python literal
                return ast.literal_eval(python_literals(attempt))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass
    return None


LITERAL_OR_STRING = re.compile(r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|\b(null|true|false)\b""")
PYTHON_WORDS = {"null": "None", "true": "True", "false": "False"}


def python_literals(text: str) -> str:
    """JSON's null/true/false as Python's, outside quoted strings only."""
    return LITERAL_OR_STRING.sub(lambda m: m.group(1) or PYTHON_WORDS[m.group(2)], text)


def candidates(body: str) -> list[str]:
    """`body` cut after its first complete value, else closed after each complete element
    (last first): the repairs a truncated answer allows."""
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    cuts: list[tuple[int, list[str]]] = []  # (end index, brackets open there)
    for i, ch in enumerate(body):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            if not stack:
                return [body[: i + 1]]
            cuts.append((i + 1, list(stack)))
        elif ch == ",":
            cuts.append((i, list(stack)))
    closed = [body[:end] + "".join(reversed(open_)) for end, open_ in reversed(cuts)]
    if stack and not quote:
        closed.insert(0, body + "".join(reversed(stack)))
    return closed[:50]  # the latest cuts: enough for any real answer, bounded work
