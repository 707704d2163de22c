"""`mner augment`: make the auxiliary inputs a model reads, for any post, from any model.

- knowledge (PGIM-style auxiliary knowledge) from an OpenAI-compatible chat endpoint
  or a local Hugging Face text-generation model: `knowledge.py`, `prompts.py`, `examples.py`;
- captions from any Hugging Face image-to-text model: `captions.py`;
- OCR text from RapidOCR (models ship inside the wheel, runs offline): `ocr.py`.

Every answer is cached on disk (SQLite, JSON values; `cache.py`) under a key that names the
model, the prompt or engine version and the input (post or image content hash), so a rerun
or an interrupted run never asks twice. Outputs are the visual-text files the readers take
(`mner.data.readers.visual_text`). Shared parts: `chat.py` (the HTTP client, retries),
`local_model.py` (the same interface over a local model), `jobs.py` (bounded concurrency
over cached jobs with a progress bar), `image_files.py` (image listing, hashing, data URLs).
"""
