"""R-GCN's relation graphs: known neighbours per graph, the ablations, training through save/load/predict."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bow import BagOfWordsEmbedder  # noqa: E402
from test_index import bank_posts  # noqa: E402

from mner.checkpoint import from_pretrained  # noqa: E402
from mner.config import load_config  # noqa: E402
from mner.data.post import Post  # noqa: E402
from mner.data.tags import bio_to_spans  # noqa: E402
from mner.evaluation import predict_tags  # noqa: E402
from mner.model_inputs import model_inputs  # noqa: E402
from mner.retrieval.index import PostIndex  # noqa: E402
from mner.retrieval.relation_graph import INDEX_DIR, RelationGraphs  # noqa: E402
from mner.training.run import train_run  # noqa: E402
from posts_factory import make_posts  # noqa: E402


def caption_bank():
    posts = bank_posts()
    captions = ["basketball player on court", "basketball game crowd", "runway models dress",
                "street umbrella rain", "phone on a table"]
    for p, c in zip(posts, captions):
        p.visual_text["caption"] = c
    return PostIndex.build(posts, key="caption", embedder=BagOfWordsEmbedder(), encoder="bag-of-words", kind="flat")


def test_each_graph_retrieves_by_its_own_modality():
    graphs = RelationGraphs(caption_bank(), k=1, output_dim=8)
    query = Post(id="q", tokens="crowd at the basketball game".split(),
                 visual_text={"caption": "phone on a table"})
    inter, = graphs._graph("inter", [query])  # its text -> captions: the basketball crowd post (t1)
    intra, = graphs._graph("intra", [query])  # its caption -> captions: the phone post (t4)
    bank = graphs.index
    assert (inter[1][0] == bank.keys(bank.vectors[1:2])[0]).all()
    assert (intra[1][0] == bank.keys(bank.vectors[4:5])[0]).all()


@pytest.mark.parametrize("graphs,tokens", [(["inter", "intra"], 2), (["inter"], 1), (["intra"], 1), ([], 1)])
def test_ablations_change_the_graph_tokens(graphs, tokens):
    module = RelationGraphs(caption_bank(), graphs=graphs, k=2, output_dim=8)
    posts = [Post(id=f"q{i}", tokens="Durant back in OKC".split(), visual_text={"caption": "a court"})
             for i in range(3)]
    out = module(module.featurize(posts))
    assert out.tokens.shape == (3, tokens, 8) and out.mask.all()
    if not graphs:
        assert (out.tokens == 0).all()  # nothing retrieved reaches the words
    with pytest.raises(ValueError, match="unknown relation graph"):
        RelationGraphs(caption_bank(), graphs=["cross"])


def test_relation_graph_model_trains_saves_loads_and_predicts(tmp_path, tiny_bert_dir):
    posts = make_posts(4)
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", "train.epochs=25", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.lr.fusion=3e-2",
                             "train.lr.visual=3e-2", "train.patience=0", "train.scheduler.warmup=0.0",
                             "model.dropout=0.0"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "max_length": 64}
    cfg["model"]["visual"] = {"name": "visual.relation_graph.v1", "graphs": ["inter", "intra"], "k": 2,
                              "encoder": str(tiny_bert_dir), "output_dim": 16, "dropout": 0.0,
                              "cache_dir": str(tmp_path / "cache")}
    cfg["model"]["fusion"] = {"name": "fusion.gated.v1", "hidden": 16, "dropout": 0.0}
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    best = tmp_path / "run" / "best"
    assert (best / INDEX_DIR / "index.faiss").exists()
    loaded = from_pretrained(best)
    tags, _ = predict_tags(loaded, posts)
    assert [bio_to_spans(t) for t in tags] == [bio_to_spans(p.tags) for p in posts]
    assert model_inputs(cfg["model"]) == ["text", "caption"]
