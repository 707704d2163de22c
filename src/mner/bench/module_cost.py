"""`mner bench-modules`: what the thesis's two new modules cost on this machine.

Text modules, one training step each at the same batch size and sequence length
(generated posts of one-subword words, so every tokenizer gives the same rows):
  minilm-l6      the offline MiniLM-L6 encoder, fine-tuned (every weight trained)
  decoder-tiny   a 2-layer, hidden-32 Llama-shaped decoder with LoRA (the tests' size)
  qwen2.5-0.5b   a decoder of Qwen2.5-0.5B's published shape (24 layers, hidden 896, 14 query /
                 2 key-value heads, 151,936-entry vocabulary) with RANDOM weights (no decoder
                 weights are reachable here; speed does not depend on the values), LoRA on q/v
Each row: parameters in total and trained, seconds per step (median of `steps` after one
untimed warm-up step): forward, CRF loss, backward, AdamW update.

Image module: the CNN (`visual.cnn.v1`) per image on a folder of images, split like
`mner bench-pixels`: decode, resize, featurize cold (decode + resize + pixel-cache write)
and warm (cache read), and the network's forward (inference) and forward + backward
(training: the CNN trains, so unlike a frozen pixel backbone it costs this every epoch).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

WORDS = ["the", "in", "at", "and", "of", "to", "new", "york", "paris", "london", "city", "game", "fans", "love",
         "day", "with", "win", "apple", "google", "festival"]  # one subword each for MiniLM and the word-level vocab
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]


def _decoder_config(shape: str) -> Any:
    from transformers import LlamaConfig, Qwen2Config

    if shape == "decoder-tiny":
        return LlamaConfig(vocab_size=512, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    if shape == "qwen2.5-0.5b":  # Qwen/Qwen2.5-0.5B's config.json, weights random
        return Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                           num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                           rope_theta=1000000.0, tie_word_embeddings=True, rms_norm_eps=1e-6)
    raise ValueError(f"unknown decoder shape {shape!r}; choose from {DECODER_SHAPES}")


DECODER_SHAPES = ("decoder-tiny", "qwen2.5-0.5b")
TEXT_MODULES = ("minilm-l6", *DECODER_SHAPES)


def word_tokenizer() -> Any:
    """A word-level tokenizer over WORDS, BOS/EOS around each row (rows as long as MiniLM's CLS/SEP rows)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<unk>", "<s>", "</s>", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def _text_model(name: str, lora_r: int) -> Any:
    from mner.builders import build_model
    from mner.model import MnerModel
    from mner.modules.decoder import HfDecoderEncoder, LoraSettings
    from mner.modules.heads.crf import CrfHead

    if name == "minilm-l6":
        return build_model({"encoder": {"name": "encoder.hf.v1", "model": "minilm-l6"}, "word_shape_dim": 0,
                            "head": {"name": "head.crf.v1"}, "dropout": 0.1}, LABELS)
    from transformers import AutoModel

    torch.manual_seed(0)
    base = AutoModel.from_config(_decoder_config(name))
    encoder = HfDecoderEncoder(base, word_tokenizer(), f"random {name}", LoraSettings(r=lora_r, alpha=2 * lora_r,
                                                                                      dropout=0.05))
    return MnerModel(encoder, CrfHead(encoder.hidden_size, LABELS), LABELS, None, 0.1)


@dataclass
class StepCost:
    module: str
    parameters: int
    trained: int
    batch_size: int
    sequence_length: int
    seconds_per_step: float
    steps: int
    threads: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measure_step_cost(name: str, batch_size: int = 8, words: int = 30, steps: int = 3, lora_r: int = 8,
                      log: Callable[[str], None] = lambda _: None) -> StepCost:
    from mner.data.post import Post

    if name not in TEXT_MODULES:
        raise ValueError(f"unknown text module {name!r}; choose from {', '.join(TEXT_MODULES)}")
    log(f"building {name}")
    model = _text_model(name, lora_r)
    posts = [Post(f"p{b}", [WORDS[(b + i) % len(WORDS)] for i in range(words)], ["O"] * words)
             for b in range(batch_size)]
    batch = model.batch(posts)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    times = []
    for step in range(steps + 1):
        start = time.perf_counter()
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:  # the first step is warm-up (allocations, kernel choice)
            times.append(time.perf_counter() - start)
        log(f"{name}: step {step} {time.perf_counter() - start:.2f}s")
    return StepCost(name, sum(p.numel() for p in model.parameters()),
                    sum(p.numel() for p in model.parameters() if p.requires_grad), batch_size,
                    int(batch.features["input_ids"].shape[1]), statistics.median(times), steps,
                    torch.get_num_threads())


@dataclass
class CnnCost:
    description: str
    parameters: int
    images: int
    bad_images: int
    batch_size: int
    threads: int
    ms_per_image: dict[str, float]  # decode, resize, cold, warm, forward, train_step

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measure_cnn_cost(folder: Path, image_size: int = 64, widths: tuple[int, ...] = (32, 64, 128),
                     tokens: str = "pooled", batch_size: int = 16, limit: int | None = None) -> CnnCost:
    from mner.bench.pixel_cost import image_files
    from mner.data.errors import ImageError
    from mner.data.images import load_image
    from mner.data.post import Post
    from mner.modules.visual.cnn import CnnImageEncoder

    files = image_files(Path(folder), limit)
    workdir = Path(tempfile.mkdtemp(prefix="mner-cnn-"))
    try:
        torch.manual_seed(0)
        encoder = CnnImageEncoder(output_dim=256, widths=list(widths), image_size=image_size, tokens=tokens,
                                  max_images=1, cache_dir=workdir / "cache")
        started = time.perf_counter()
        images, bad = [], 0
        for path in files:
            try:
                images.append(load_image(path, max_pixels=encoder.max_pixels))
            except ImageError:
                bad += 1
        decode = time.perf_counter() - started
        n = max(1, len(images))
        started = time.perf_counter()
        for image in images:
            encoder.resize(image)
        resize = time.perf_counter() - started
        posts = [Post(f"p{i}", ["x"], images=[str(p)]) for i, p in enumerate(files)]
        batches = [posts[s : s + batch_size] for s in range(0, len(posts), batch_size)]
        started = time.perf_counter()
        features = [encoder.featurize(b) for b in batches]
        cold = time.perf_counter() - started
        warm = statistics.median(_seconds(lambda: [encoder.featurize(b) for b in batches]) for _ in range(3))
        encoder.eval()
        with torch.inference_mode():
            encoder(features[0])  # untimed first call
            forward = statistics.median(_seconds(lambda: [encoder(f) for f in features]) for _ in range(3))
        encoder.train()
        optimizer = torch.optim.AdamW(encoder.parameters(), lr=1e-3)

        def train_pass() -> None:
            for f in features:
                loss = encoder(f).tokens.pow(2).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        train_pass()  # untimed warm-up
        train = statistics.median(_seconds(train_pass) for _ in range(3))
        ms = lambda seconds, count: 1000.0 * seconds / max(1, count)  # noqa: E731
        return CnnCost(f"CNN {'-'.join(map(str, widths))}, {image_size} px, {tokens}",
                       sum(p.numel() for p in encoder.parameters()), len(images), bad, batch_size,
                       torch.get_num_threads(),
                       {"decode": ms(decode, len(files)), "resize": ms(resize, n), "cold": ms(cold, len(files)),
                        "warm": ms(warm, len(files)), "forward": ms(forward, n), "train_step": ms(train, n)})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _seconds(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def step_table(rows: list[StepCost]) -> str:
    lines = ["| text module | parameters | trained | batch x tokens | s / step | steps | threads |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.module} | {r.parameters / 1e6:.2f}M | {r.trained / 1e6:.3f}M "
                     f"({100 * r.trained / r.parameters:.2f}%) | {r.batch_size} x {r.sequence_length} | "
                     f"{r.seconds_per_step:.3f} | {r.steps} | {r.threads} |")
    return "\n".join(lines) + "\n"


def cnn_table(rows: list[CnnCost]) -> str:
    lines = ["| image module | params | images | decode ms | resize ms | first epoch ms/img (cold pixel cache) | "
             "later epochs ms/img (warm) | forward ms/img | forward + backward + update ms/img |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ms = r.ms_per_image
        lines.append(f"| {r.description} | {r.parameters / 1e6:.2f}M | {r.images} | {ms['decode']:.1f} | "
                     f"{ms['resize']:.2f} | {ms['cold']:.1f} | {ms['warm']:.2f} | {ms['forward']:.2f} "
                     f"(batch {r.batch_size}) | {ms['train_step']:.2f} |")
    return "\n".join(lines) + "\n"
