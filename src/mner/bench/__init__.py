"""`mner bench`: mner against a plain Hugging Face fine-tune, and what int8 / ONNX buy.

    from mner.bench import BenchOptions, run_bench
    result = run_bench(BenchOptions(quick=True, output_dir=Path("runs/bench-quick")))
    result["systems"][0]["f1"], result["ceilings"]["fp32_gflops"]

Modules, one concept each:
  peer.py      the plain HF token-classification fine-tune (the baseline)
  hardware.py  machine description and measured matmul ceilings (fp32 GFLOP/s, int8 GOP/s)
  flops.py     FLOPs per post of a BERT-like encoder + head (the formula is documented there)
  speed.py     batch-64 throughput, batch-1 latency, peak RSS, size on disk
  report.py    bench.json -> bench.md tables (keys documented there)
  plot.py      bench.png, F1 against posts/s
  quick.py     quick mode's tiny random encoder and generated posts
  runner.py    quick | full orchestration -> OUTPUT_DIR/bench.{md,json,png}
docs/bench.md says what each figure means and how to reproduce it.
"""

from __future__ import annotations

from mner.bench.runner import BenchOptions, run_bench

__all__ = ["BenchOptions", "run_bench"]
