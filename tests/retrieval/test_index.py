"""The post index: known neighbours, no self-retrieval, no held-out banks, build once and reuse."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bow import BagOfWordsEmbedder  # noqa: E402

from mner.data.post import Post  # noqa: E402
from mner.retrieval.embed import SentenceEmbedder, key_text  # noqa: E402
from mner.retrieval.index import PostIndex, cached_index, check_bank_source  # noqa: E402


def bank_posts():
    texts = [("Kevin Durant joins OKC", ["B-PER", "I-PER", "O", "B-ORG"]),
             ("Durant scores for OKC tonight", ["B-PER", "O", "O", "B-ORG", "O"]),
             ("Paris fashion week opens", ["B-LOC", "O", "O", "O"]),
             ("rain in Paris again", ["O", "O", "B-LOC", "O"]),
             ("Apple shares new iPhone", ["B-ORG", "O", "O", "B-MISC"])]
    return [Post(id=f"t{i}", tokens=t.split(), tags=tags, visual_text={"caption": f"photo {i}"})
            for i, (t, tags) in enumerate(texts)]


def build(kind="flat", **kw):
    return PostIndex.build(bank_posts(), embedder=BagOfWordsEmbedder(), encoder="bag-of-words", kind=kind, **kw)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_known_neighbours(kind):
    index = build(kind)
    query = Post(id="q", tokens="Durant back in OKC".split())
    hits = index.search([query], k=2)[0]
    assert {index.bank[i].id for i, _ in hits} == {"t0", "t1"}
    assert hits[0][1] >= hits[1][1]


def test_a_post_never_retrieves_itself_by_id_or_by_words():
    index = build()
    for q, hits in enumerate(index.bank_neighbours(k=4)):
        assert q not in [i for i, _ in hits] and len(hits) == 4
    same_words = Post(id="dev-7", tokens="Paris fashion week opens".split())
    assert "t2" not in [index.bank[i].id for i, _ in index.search([same_words], k=4)[0]]


def test_held_out_files_are_refused_and_unlabelled_posts_too():
    for name in ("valid.txt", "dev.txt", "test.txt", "twitter2017_test.jsonl"):
        with pytest.raises(ValueError, match="dev/test"):
            check_bank_source(name)
    check_bank_source("train.txt")
    with pytest.raises(ValueError, match="gold tags"):
        PostIndex.build([Post(id="u", tokens=["x"])], embedder=BagOfWordsEmbedder())


def test_keys_join_visual_text():
    post = bank_posts()[0]
    assert key_text(post, "text") == "Kevin Durant joins OKC"
    assert key_text(post, "text|caption") == "Kevin Durant joins OKC | photo 0"
    assert key_text(post, "knowledge") == ""


def test_save_load_gives_the_same_neighbours(tmp_path):
    index = build()
    index.save(tmp_path / "idx")
    loaded = PostIndex.load(tmp_path / "idx")
    loaded._embedder = BagOfWordsEmbedder()
    query = [Post(id="q", tokens="rain over Paris".split())]
    assert loaded.search(query, 3) == index.search(query, 3)
    assert loaded.bank[0].tags == ["B-PER", "I-PER", "O", "B-ORG"]
    with pytest.raises(FileNotFoundError, match="not an mner index"):
        PostIndex.load(tmp_path)


def test_hubness_report_shares():
    shares = build().hubness(k=2)
    assert 0 < shares["centred"]["top10"] <= 100 and 0 < shares["raw"]["top1pct"] <= 100


def test_cached_index_is_reused_until_the_posts_change(tmp_path, tiny_bert_dir):
    posts = bank_posts()
    first, reused = cached_index(posts, tmp_path / "idx", encoder=str(tiny_bert_dir), log=lambda m: None)
    assert not reused and first.vectors.shape == (5, 32)
    again, reused = cached_index(posts, tmp_path / "idx", encoder=str(tiny_bert_dir), log=lambda m: None)
    assert reused and (again.vectors == first.vectors).all()
    posts[0].tags = ["O"] * 4
    _, reused = cached_index(posts, tmp_path / "idx", encoder=str(tiny_bert_dir), log=lambda m: None)
    assert not reused


def test_cached_index_waits_while_another_process_builds_it(tmp_path, tiny_bert_dir):
    """A grid's runs share a cache directory: one that finds it being built waits, then reuses it."""
    import fcntl
    import threading

    posts = bank_posts()
    built = {}
    with open(tmp_path / ".idx.lock", "w") as lock:  # what a building process holds
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiter = threading.Thread(target=lambda: built.update(result=cached_index(
            posts, tmp_path / "idx", encoder=str(tiny_bert_dir), log=lambda m: None)))
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive() and not (tmp_path / "idx").exists()  # it waits and writes nothing
        PostIndex.build(posts, encoder=str(tiny_bert_dir)).save(tmp_path / "idx")  # the other process's index
    waiter.join(timeout=60)
    index, reused = built["result"]
    assert reused and index.vectors.shape == (5, 32)


def test_embeddings_are_made_on_the_gpu_when_there_is_one(tiny_bert_dir):
    import torch

    assert SentenceEmbedder(str(tiny_bert_dir)).device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    embedder = SentenceEmbedder(str(tiny_bert_dir), device="cpu")
    assert next(embedder.model.parameters()).device.type == "cpu" and embedder.embed(["alice"]).dtype == "float32"


def test_sentence_embedder_ignores_padding(tiny_bert_dir):
    embedder = SentenceEmbedder(str(tiny_bert_dir), batch_size=2)
    alone = embedder.embed(["alice"])
    together = embedder.embed(["alice", "the game in new york with fans"])
    assert together.shape == (2, 32)
    assert abs(alone[0] - together[0]).max() < 1e-4
