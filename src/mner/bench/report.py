"""bench.json -> bench.md: the tables, the machine, and the bound beside each speed figure.

Every system row in bench.json has the keys in `SYSTEM_KEYS` (None where a figure does
not apply: an export has no training time, the peer no `vs_peer`); the top level has
`TOP_KEYS`. docs/bench.md explains each figure.
"""

from __future__ import annotations

from typing import Any

TOP_KEYS = ("mode", "created", "machine", "ceilings", "settings", "systems", "skipped", "notes")
SYSTEM_KEYS = (
    "name", "kind", "description", "path", "source",
    "f1", "train_seconds", "train_peak_mb", "export_seconds",
    "posts_per_s_b64", "p50_ms_b1", "p95_ms_b1", "n_b64", "n_b1",
    "peak_rss_mb", "peak_delta_mb", "peak_resettable", "size_mb",
    "flops_per_post", "flops_split", "subwords_per_post", "bound_posts_per_s", "bound_ms_b1",
    "achieved_gflops", "fraction_of_bound", "time_split", "vs_peer", "vs_source", "f1_by_batch",
    "padding_b64", "posts_per_s_b64_alone",
)
VS_PEER_KEYS = ("f1_delta", "f1_ratio", "train_time_ratio", "speed_ratio", "p50_ratio", "size_ratio",
                "peak_delta_ratio")
VS_SOURCE_KEYS = ("f1_cost", "f1_cost_mean", "speedup", "p50_ratio", "size_ratio")

FP32_NOTE = (
    "int8 (dynamic): every nn.Linear (encoder projections and feed-forward, the head's emission projection) "
    "has int8 weights with one scale per output channel; activations are quantized at run time with one scale "
    "per token (row), int8 x int8 products accumulate in int32 (torch._int_mm on VNNI/AMX CPUs; on AVX2-only "
    "CPUs fbgemm's dynamic Linear on rows pre-divided by their own max). "
    "Still fp32: the embeddings (a lookup, no arithmetic to speed up; the largest tensor, so the file "
    "shrinks less than 4x), LayerNorm/GELU/residuals (element-wise, need range), attention scores and "
    "softmax (activation x activation products and exponentials, outside nn.Linear) and the CRF "
    "(log-space scores with -10000 penalties for forbidden BIO moves). "
    "ONNX: the encoder, word gather, word shape and emission projection run in onnxruntime (fp32; the int8 "
    "export fuses attention and quantizes Q/K/V, attention output, feed-forward, emission projection and the "
    "embedding tables, with one activation scale per call); featurization (string work) and CRF decoding "
    "(Viterbi and forward-backward in numpy, a few percent of the time) stay in mner's code, so decoding is "
    "the torch model's own head."
)
BF16_NOTE = (
    "bf16 rows: the same saved fp32 model run under torch.autocast(bfloat16): Linear layers, attention and "
    "GELU compute in bf16 (8-bit mantissa, fp32 range) with fp32 accumulation; embedding lookups, softmax "
    "and the CRF (emissions cast back to fp32) stay fp32. No export step and nothing stored differently, so "
    "size and memory match the fp32 model. Measured only where the CPU has native bf16 (AVX512-BF16/AMX); "
    "elsewhere torch emulates it and it is slower than fp32."
)
FLOPS_NOTE = (
    "FLOPs/post = encoder 2*n*(4d^2 + 2*d*f)*layers + 4*n^2*d*layers (n subwords of the post's rows, "
    "specials and second segment included) + head 2*words*input*labels; padding, embeddings, LayerNorm, "
    "softmax, GELU and the CRF are not counted. Bound = measured matmul ceiling / FLOPs per post "
    "(int8 rows: Linear FLOPs at the int8 rate; bf16 rows: every counted FLOP at the bf16 rate)."
)
MEMORY_NOTE = (
    "Peak RSS: Linux VmHWM of the whole process during load + inference, reset before each system "
    "(/proc/self/clear_refs); delta = that peak minus the RSS just before loading. Size: all files of the "
    "model directory, MB = 10^6 bytes."
)


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value != value:  # NaN
        return "n/a"
    return f"{value:,.{digits}f}"


def _ratio(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def machine_lines(result: dict[str, Any]) -> list[str]:
    m, c, s = result["machine"], result["ceilings"], result["settings"]
    quota = f", cgroup quota {m['cgroup_cpu_quota']} CPUs" if m.get("cgroup_cpu_quota") else ""
    return [
        f"**Machine.** {m['cpu_model']} ({m.get('cpu_capability') or 'unknown ISA'}), "
        f"{m['usable_cpus']} usable of {m['logical_cpus']} logical CPUs{quota}, "
        f"{m.get('memory_gb') or '?'} GB RAM, {m['gpu']}; torch {m['torch']} with {_plural(s['threads'], 'thread')} "
        f"(interop {m['torch_interop_threads']}), transformers {m.get('transformers')}, "
        f"onnxruntime {m.get('onnxruntime') or 'not installed'}, Python {m['python']}. "
        f"Load average when the bench started: {_num(m.get('load_average_1m'), 2)} (other work on these cores "
        "lowers every figure, the ceiling included).",
        "",
        f"**Measured ceiling** (best of {c['repeats']} timed {c['matmul_n']}x{c['matmul_n']} products, "
        f"{_plural(c['threads'], 'thread')}): fp32 matmul **{c['fp32_gflops']:.1f} GFLOP/s**, bf16 matmul "
        f"**{c['bf16_gflops']:.1f} GFLOP/s** ({'native' if c['native_bf16'] else 'emulated: no'} bf16 "
        f"instructions), dynamic int8 Linear **{c['int8_gops']:.1f} GOP/s**.",
        "",
        f"**Setup.** encoder `{s['encoder']}`, {s['epochs']} epochs for every trained system, "
        f"{s['train_posts']} training / {s['dev_posts']} dev posts; batch-64 throughput over the dev set "
        f"sorted by length, every system loaded and timed in turns (median of "
        f"{s.get('rounds') or s['repeats']} rounds, the order rotated each round); batch-1 latency over "
        f"{s['b1_posts']} dev posts.",
    ]


def accuracy_table(systems: list[dict[str, Any]]) -> list[str]:
    lines = ["| system | what | dev F1 | train s | train peak RSS MB | size on disk MB |", "|---|---|---|---|---|---|"]
    for r in systems:
        lines.append(f"| {r['name']} | {r['description']} | {_num(r['f1'], 2)} | {_num(r['train_seconds'])} | "
                     f"{_num(r['train_peak_mb'], 0)} | {_num(r['size_mb'])} |")
    return lines


def speed_table(systems: list[dict[str, Any]]) -> list[str]:
    lines = ["| system | posts/s b64 (bound) | % of bound | achieved GFLOP/s | MFLOPs/post | padding b64 "
             "| p50 ms b1 (bound) | p95 ms b1 | peak RSS MB (delta) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in systems:
        fraction = None if r["fraction_of_bound"] is None else 100 * r["fraction_of_bound"]
        lines.append(
            f"| {r['name']} | {_num(r['posts_per_s_b64'])} ({_num(r['bound_posts_per_s'], 0)}) | {_num(fraction)}% | "
            f"{_num(r['achieved_gflops'], 2)} | {_num((r['flops_per_post'] or 0) / 1e6, 2)} | "
            f"{_pct(r.get('padding_b64'))} | {_num(r['p50_ms_b1'], 2)} ({_num(r['bound_ms_b1'], 3)}) | "
            f"{_num(r['p95_ms_b1'], 2)} | "
            f"{_num(r['peak_rss_mb'], 0)} ({_num(r['peak_delta_mb'], 0)}) |")
    return lines


def peer_table(systems: list[dict[str, Any]]) -> list[str]:
    lines = ["| system | F1 - peer (points) | F1 ratio | train time ratio | posts/s ratio | p50 latency ratio "
             "| size ratio | memory delta ratio |", "|---|---|---|---|---|---|---|---|"]
    for r in systems:
        v = r["vs_peer"]
        if v is None:
            continue
        lines.append(f"| {r['name']} | {_signed(v['f1_delta'])} | {_ratio(v['f1_ratio'])} | "
                     f"{_ratio(v['train_time_ratio'])} | {_ratio(v['speed_ratio'])} | {_ratio(v['p50_ratio'])} | "
                     f"{_ratio(v['size_ratio'])} | {_ratio(v['peak_delta_ratio'])} |")
    return lines


def compression_table(systems: list[dict[str, Any]]) -> list[str]:
    sizes = sorted({int(k) for r in systems for k in (r.get("f1_by_batch") or {})})
    header = "F1 at batch " + "/".join(map(str, sizes)) if sizes else "F1 by batch"
    lines = [f"| compressed | from | F1 | F1 cost (points) | {header} | mean cost | speed-up b64 | p50 latency ratio "
             "| size ratio | export s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in systems:
        v = r["vs_source"]
        if v is None:
            continue
        by_batch = r.get("f1_by_batch")
        spread = " / ".join(_num(by_batch[str(k)], 2) for k in sizes) if by_batch else "n/a"
        lines.append(f"| {r['name']} | {r['source']} | {_num(r['f1'], 2)} | {_signed(v['f1_cost'])} | {spread} | "
                     f"{_signed(v.get('f1_cost_mean'))} | {_ratio(v['speedup'])} | {_ratio(v['p50_ratio'])} | "
                     f"{_ratio(v['size_ratio'])} | {_num(r['export_seconds'])} |")
    return lines


def split_table(systems: list[dict[str, Any]]) -> list[str]:
    lines = ["| system | featurize s | network s | decode s | network share |", "|---|---|---|---|---|"]
    for r in systems:
        t = r["time_split"]
        if not t:
            continue
        total = t["featurize_s"] + t["network_s"] + t["decode_s"]
        share = 100 * t["network_s"] / total if total else None
        lines.append(f"| {r['name']} | {t['featurize_s']:.3f} | {t['network_s']:.3f} | {t['decode_s']:.3f} | "
                     f"{_num(share)}% |")
    return lines


def render_markdown(result: dict[str, Any]) -> str:
    systems = result["systems"]
    quick = result["mode"] == "quick"
    out = [f"# mner bench ({result['mode']} mode, {result['created']})", ""]
    if quick:
        out += ["> Quick mode: a tiny random encoder and generated posts. It checks that every step runs; its "
                "numbers say nothing about mner. Run without `--quick` for the real figures.", ""]
    out += machine_lines(result) + ["", "## Accuracy, training and size", ""] + accuracy_table(systems)
    out += ["", "## Inference speed (CPU)", "", "Bound: the posts/s (or ms) if every counted FLOP ran at the measured "
            "ceiling; % of bound = measured / bound.", ""] + speed_table(systems)
    out += ["", "## mner / peer", "", "Ratios are system / peer: above 1 is faster for posts/s, slower for train time, "
            "latency, size and memory.", ""] + peer_table(systems)
    if any(r["vs_source"] for r in systems):
        out += ["", "## Compression and bf16 (vs the fp32 model each comes from)", ""] + compression_table(systems)
    if any(r["time_split"] for r in systems):
        out += ["", "## Where batch-64 time goes (mner systems, one pass over dev)", ""] + split_table(systems)
    if result["skipped"]:
        out += ["", "## Not measured", ""] + [f"- {s['name']}: {s['reason']}" for s in result["skipped"]]
    notes = result["notes"]
    out += ["", "## Notes", "", f"- What stays fp32: {notes['fp32']}", f"- bf16: {notes['bf16']}",
            f"- FLOPs: {notes['flops']}",
            f"- Memory and size: {notes['memory']}", f"- Reproduce: `{result['settings']['command']}`", ""]
    return "\n".join(out)
