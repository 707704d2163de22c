"""The line scanner shared by the CoNLL-style formats and the validator.

Twitter-2015/2017 and GMNER files start each post with an ``IMGID:<id>`` line,
CMNER files with ``WID:<id>``; then one ``token<TAB>tag`` line per token and a
blank line between posts. `scan_conll` turns such a file into `ConllBlock`s
and hands every malformed line to a `ProblemSink`: the strict readers pass one
that raises (`raise_problems`), the validator one that collects, so both read
the file by exactly the same rules.

Rules, and why:
- lines come from `mner.data.readers.lines.read_lines`: CRLF files (CMNER)
  read like LF files, a BOM is ignored, a non-UTF-8 line is reported;
- a line that is empty or only whitespace ends a post; several are fine;
- a header line starts a new post even without a blank line before it;
- a token is "empty" when it is ``""`` or only ASCII spaces. Other whitespace
  is kept: Twitter-2015 valid really has a token that is a lone U+00A0;
- the tag is stripped of surrounding whitespace and must be ``O``, ``B-X`` or
  ``I-X`` (BIOES prefixes pass here; the readers reject them, the validator
  flags them via `tags.bio_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike

from mner.data.readers.lines import ProblemSink, read_lines
from mner.data.tags import TagError, parse_tag

IMGID_HEADER = "IMGID:"
WID_HEADER = "WID:"


@dataclass
class ConllBlock:
    """One post as it stands in the file, before any tag normalisation."""

    post_id: str
    line: int  # the header line
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    token_lines: list[int] = field(default_factory=list)  # line of each token


def is_empty_token(token: str) -> bool:
    return token.strip(" ") == ""


def scan_conll(path: str | PathLike[str], header: str, report: ProblemSink) -> list[ConllBlock]:
    """Posts of a CoNLL file whose posts start with `header` (e.g. ``"IMGID:"``)."""
    blocks: list[ConllBlock] = []
    current: ConllBlock | None = None
    orphan_reported = False  # one problem per run of token lines before any header

    def close() -> None:
        nonlocal current
        if current is not None:
            if current.tokens:
                blocks.append(current)
            else:
                report(current.line, f"post {current.post_id!r} has no tokens")
        current = None

    for number, line in read_lines(path, report):
        if not line.strip():
            close()
            continue
        if line.startswith(header):
            close()
            orphan_reported = False
            post_id = line[len(header) :].strip()
            if not post_id:
                report(number, f"empty post id after {header!r}")
                post_id = f"line-{number}"
            current = ConllBlock(post_id=post_id, line=number)
            continue
        if current is None:
            if not orphan_reported:
                report(number, f"token line before the first {header}<id> line")
                orphan_reported = True
            continue
        fields = line.split("\t")
        if len(fields) == 1:
            report(number, f"missing tab: expected token<TAB>tag, got {line!r}")
            continue
        if len(fields) > 2:
            report(number, f"expected 2 tab-separated fields (token, tag), found {len(fields)}")
            continue
        token, tag = fields[0], fields[1].strip()
        if is_empty_token(token):
            report(number, f"empty token (tag {tag!r})")
            continue
        try:
            parse_tag(tag)
        except TagError as err:
            report(number, str(err))
            tag = "O"  # keep the token so later checks see the post's real length
        current.tokens.append(token)
        current.tags.append(tag)
        current.token_lines.append(number)
    close()
    return blocks
