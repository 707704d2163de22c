"""Raw text -> tokens the way the Twitter MNER releases tokenise.

URLs and @mentions stay whole; `#` is split from its hashtag (Twitter-2017
style: `#`, `NBAAwards`); punctuation and emoji are single tokens; Chinese,
Japanese and Korean characters are one token each (CMNER is char-level).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"https?://\S+|www\.\S+"  # URLs
    r"|@\w+"  # mentions
    r"|[\u4e00-\u9fff\u3400-\u4dbf\u3040-\u30ff\uac00-\ud7af]"  # one CJK character
    r"|[^\W_\u4e00-\u9fff\u3400-\u4dbf\u3040-\u30ff\uac00-\ud7af]+(?:[.\-][^\W_\u4e00-\u9fff]+)*"  # words, 3.5, U.S
    r"|_+"
    r"|\S",  # any other single character: punctuation, #, emoji
    re.UNICODE,
)


_URL_START = re.compile(r"^(https?://|www\.)", re.IGNORECASE)


def is_url(word: str) -> bool:
    """A token that is a web address (`http://t.co/...`, `www.x.org`): word shape and the
    encoder's URL placeholder both use this one test."""
    return bool(_URL_START.match(word))


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)
