"""Batch prediction over a JSONL file: the engine behind `mner predict --input`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from mner.data.readers.lines import raise_problems, read_lines
from mner.data.safe_paths import rootless_problem


def check_image_names(path: Path, line_no: int, item: dict[str, Any]) -> None:
    """Image names in the input are untrusted (`mner.data.safe_paths`): relative, never climbing."""
    images = item.get("images", [])
    if not isinstance(images, list) or not all(isinstance(name, str) for name in images):
        raise ValueError(f"{path}:{line_no}: 'images' must be a list of file names")
    for name in images:
        problem = rootless_problem(name)
        if problem is not None:
            raise ValueError(f"{path}:{line_no}: unsafe image name {name!r}: {problem}")


def read_jsonl_items(path: Path) -> list[dict[str, Any]]:
    """The input's objects; a bad line (JSON, encoding, image names) is a ValueError naming file:line."""
    items = []
    for line_no, line in read_lines(path, raise_problems(path)):  # UTF-8 (BOM or not); UTF-16 named
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{line_no}: not valid JSON ({err.msg})") from None
        if not isinstance(item, dict) or not ("tokens" in item or "text" in item):
            raise ValueError(f"{path}:{line_no}: expected an object with 'tokens' or 'text'")
        check_image_names(path, line_no, item)
        items.append(item)
    return items


def predict_file(tagger: Any, input_path: Path, output_path: Path | None, chunk: int = 256) -> int:
    from mner.predict import as_post, prediction_record

    items = read_jsonl_items(input_path)
    out = open(output_path, "w", encoding="utf-8") if output_path else sys.stdout
    try:
        with tqdm(total=len(items), desc="predict", unit="post", disable=output_path is None) as bar:
            for start in range(0, len(items), chunk):
                posts = [as_post(item, start + i) for i, item in enumerate(items[start : start + chunk])]
                for post, entities in zip(posts, tagger.predict_many(posts)):
                    out.write(json.dumps(prediction_record(tagger, post, entities), ensure_ascii=False) + "\n")
                bar.update(len(posts))
    finally:
        if output_path:
            out.close()
    return len(items)
