"""Labelled-neighbour context: serialised gold entities of the nearest training posts, dropped for a
share of training posts, carried by a saved model."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bow import BagOfWordsEmbedder  # noqa: E402
from test_index import bank_posts  # noqa: E402

from mner.checkpoint import from_pretrained  # noqa: E402
from mner.config import load_config  # noqa: E402
from mner.data.post import Post  # noqa: E402
from mner.data.tags import bio_to_spans  # noqa: E402
from mner.evaluation import predict_tags  # noqa: E402
from mner.predict import Tagger  # noqa: E402
from mner.retrieval.index import PostIndex  # noqa: E402
from mner.retrieval.neighbours import INDEX_DIR, NeighbourContext  # noqa: E402
from mner.training.run import train_run  # noqa: E402
from posts_factory import make_posts  # noqa: E402


def context(**kw):
    index = PostIndex.build(bank_posts(), embedder=BagOfWordsEmbedder(), encoder="bag-of-words", kind="flat")
    return NeighbourContext(index, **{"k": 2, **kw})


def test_neighbours_are_written_as_their_gold_entities():
    query = Post(id="q", tokens="Durant back in OKC".split())
    (post,) = context()([query])
    # both OKC posts, best first; an entity already written is not repeated
    assert post.visual_text["neighbours"] in ("Kevin Durant = PER ; OKC = ORG | Durant = PER",
                                              "Durant = PER ; OKC = ORG | Kevin Durant = PER")
    assert query.visual_text == {}  # the caller's post is not modified


def test_the_cap_keeps_whole_entities():
    (post,) = context(max_subwords=5)([Post(id="q", tokens="Durant back in OKC".split())])
    assert post.visual_text["neighbours"] in ("Kevin Durant = PER", "Durant = PER ; OKC = ORG")


def test_training_posts_never_see_themselves():
    ctx = context(k=1)
    bank = bank_posts()
    texts = ctx.contexts(bank)
    assert texts[2] == "Paris = LOC"  # t2's nearest other post is t3 ("rain in Paris again")
    assert ctx.contexts([bank[0]]) == [texts[0]] == ["Durant = PER ; OKC = ORG"]  # t0 -> t1, not itself


def test_a_share_of_training_posts_see_no_neighbours():
    ctx = context(none_share=0.5)
    posts = [Post(id=f"q{i}", tokens="Durant back in OKC".split()) for i in range(200)]
    torch.manual_seed(0)
    empty = sum(1 for p in ctx(posts, training=True) if not p.visual_text["neighbours"])
    assert 60 < empty < 140
    assert all(p.visual_text["neighbours"] for p in ctx(posts, training=False))
    with pytest.raises(ValueError, match="none_share"):
        context(none_share=1.0)


def test_context_follows_the_knowledge_text():
    ctx = context(k=1, append_to="knowledge", field="knowledge_neighbours", knowledge_max_subwords=3)
    post = Post(id="q", tokens="rain over Paris".split(), visual_text={"knowledge": "Paris is the capital of France"})
    (out,) = ctx([post])
    assert out.visual_text["knowledge_neighbours"].startswith("Paris is the | ")
    assert out.visual_text["knowledge"] == "Paris is the capital of France"


def test_a_model_with_neighbours_trains_saves_loads_and_predicts(tmp_path, tiny_bert_dir):
    posts = make_posts(4)
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", "train.epochs=25", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.warmup=0.0", "model.dropout=0.0", "model.second_segment=neighbours"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "max_length": 64}
    cfg["model"]["neighbours"] = {"encoder": str(tiny_bert_dir), "k": 3, "none_share": 0.25,
                                  "cache_dir": str(tmp_path / "index-cache")}
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    best = tmp_path / "run" / "best"
    assert (best / INDEX_DIR / "index.faiss").exists() and len([p for p in (tmp_path / "index-cache").iterdir() if not p.name.startswith(".")]) == 1
    loaded = from_pretrained(best)
    assert loaded.context is not None and len(loaded.context.index.bank) == 4
    batch = loaded.batch(posts[:2], with_labels=False)
    assert all(p.visual_text["neighbours"] for p in batch.posts)  # eval mode: every post sees neighbours
    tags, _ = predict_tags(loaded, posts)
    assert [bio_to_spans(t) for t in tags] == [bio_to_spans(p.tags) for p in posts]
    entities = Tagger.load(tmp_path / "run").predict("Alice Smith wins in Paris")
    assert [e.type for e in entities] == ["PER", "LOC"]


def test_model_inputs_name_what_the_post_must_bring():
    from mner.model_inputs import model_inputs

    assert model_inputs({"second_segment": "neighbours", "neighbours": {"k": 3}}) == ["text"]
    assert model_inputs({"second_segment": "neighbours", "neighbours": {"append_to": "knowledge"}}) == [
        "text", "knowledge"]
    assert model_inputs({"second_segment": "neighbours", "neighbours": {"key": "text|caption"}}) == ["text", "caption"]
    assert model_inputs({"second_segment": "neighbours", "neighbours": {"key": "image"}}) == ["text", "images"]
    assert model_inputs({"visual": {"name": "visual.relation_graph.v1", "key": "image"}}) == ["text", "images"]


def test_context_coverage_counts_the_entities_each_context_names():
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "context_coverage.py"
    spec = importlib.util.spec_from_file_location("context_coverage", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    index = PostIndex.build(bank_posts(), embedder=BagOfWordsEmbedder(), encoder="bag-of-words", kind="flat")
    posts = [Post(id="a", tokens="Durant and OKC win".split(), tags=["B-PER", "O", "B-LOC", "O"]),
             Post(id="b", tokens="Zed in Rome".split(), tags=["B-PER", "O", "B-LOC"])]
    counts = module.coverage(index, posts, {"a": "Durant is a basketball player"}, k=2)
    # Durant (PER) is named by the OKC neighbours with its type; OKC by name only (ORG there, LOC
    # here); Zed and Rome by no one. The knowledge names Durant; post b has none.
    assert counts == {"entities": 4, "with_type": 1, "by_name": 2, "in_knowledge": 1, "posts_with_knowledge": 1}
