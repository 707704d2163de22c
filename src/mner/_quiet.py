"""Quiet third-party loggers whose per-load chatter drowns mner's own output."""

from __future__ import annotations

import os


def quiet_transformers() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # transformers is optional for the BiLSTM path
        pass
