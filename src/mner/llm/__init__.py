"""`mner llm evaluate`: a chat model as a tagger, scored by mner's own evaluator.

prompts.py (the instruction, few-shot examples by similarity, the JSON answer format),
answer.py (pydantic schema + repair of near-JSON), align.py (entity strings -> word spans),
evaluate.py (ask, parse, align, score; tokens and latency). The HTTP client, cache and
concurrency are `mner.augment`'s.
"""
