"""The image key: posts looked up by their pixels (a frozen vision model), not their words."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.post import Post
from mner.retrieval.index import PostIndex, cached_index, make_embedder
from mner.retrieval.relation_graph import RelationGraphs

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (20, 40, 230)}


@pytest.fixture
def pictures(tmp_path):
    """red.jpg, green.jpg, blue.jpg with some structure, and blue_copy.jpg: blue's pixels under another name."""
    for name, colour in COLOURS.items():
        image = Image.new("RGB", (48, 40), colour)
        image.paste((255 - colour[0], 90, 40), (4, 4, 20, 18))
        image.save(tmp_path / f"{name}.jpg", quality=95)
    shutil.copyfile(tmp_path / "blue.jpg", tmp_path / "blue_copy.jpg")
    return tmp_path


def bank(pictures):
    return [Post(id="r", tokens=["red", "car"], tags=["O", "O"], images=[str(pictures / "red.jpg")]),
            Post(id="g", tokens=["Kevin", "Durant"], tags=["B-PER", "I-PER"], images=[str(pictures / "green.jpg")]),
            Post(id="b", tokens=["OKC", "wins"], tags=["B-ORG", "O"], images=[str(pictures / "blue.jpg")]),
            Post(id="none", tokens=["no", "picture"], tags=["O", "O"])]


def test_image_neighbours_are_found_by_pixels_not_words(pictures, tiny_vit_dir):
    index = PostIndex.build(bank(pictures), key="image", encoder=str(tiny_vit_dir))
    assert index.meta["count"] == 3 and [b.id for b in index.bank] == ["r", "g", "b"]  # no image, no entry
    query = Post(id="q", tokens=["red", "car"], images=[str(pictures / "blue_copy.jpg")])  # red's words, blue's pixels
    (hits,) = index.search([query], k=2)
    assert index.bank[hits[0][0]].id == "b" and hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert index.search([Post(id="q2", tokens=["red", "car"])], k=2) == [[]]  # no image: no image neighbours


def test_an_image_index_is_saved_reloaded_and_rebuilt_when_the_images_change(tmp_path, pictures, tiny_vit_dir):
    posts = bank(pictures)
    first, reused = cached_index(posts, tmp_path / "idx", "image", str(tiny_vit_dir), log=lambda m: None)
    again, reused_again = cached_index(posts, tmp_path / "idx", "image", str(tiny_vit_dir), log=lambda m: None)
    assert not reused and reused_again and np.array_equal(first.vectors, again.vectors)
    query = Post(id="q", tokens=["x"], images=[str(pictures / "green.jpg")])
    assert again.bank[again.search([query], k=1)[0][0][0]].id == "g"  # the reloaded index embeds queries too
    posts[0].images = [str(pictures / "blue_copy.jpg")]
    _, reused = cached_index(posts, tmp_path / "idx", "image", str(tiny_vit_dir), log=lambda m: None)
    assert not reused


def test_the_image_key_needs_a_vision_model_and_stands_alone(tiny_vit_dir):
    with pytest.raises(ValueError, match="vision encoder"):
        make_embedder("image", "minilm-l6")
    with pytest.raises(ValueError, match="cannot be joined"):
        make_embedder("text|image", str(tiny_vit_dir))


def test_relation_graphs_over_images_take_the_intra_graph_only(pictures, tiny_vit_dir):
    index = PostIndex.build(bank(pictures), key="image", encoder=str(tiny_vit_dir))
    with pytest.raises(ValueError, match="inter-modal"):
        RelationGraphs(index, ["inter", "intra"], k=2, output_dim=8, image_key="image")
    graphs = RelationGraphs(index, ["intra"], k=2, output_dim=8, image_key="image")
    query = Post(id="q", tokens=["x"], images=[str(pictures / "blue_copy.jpg")])
    features = graphs.featurize([query, Post(id="q2", tokens=["y"])])
    sims = features["graph_sims"][:, 1]  # (b, k) the intra graph
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-4) and bool(np.isinf(sims[1].numpy()).all())
    assert graphs(features).tokens.shape == (2, 1, 8)


def test_cli_builds_an_image_index_from_a_twitter_file(tmp_path, pictures, tiny_vit_dir):
    train = tmp_path / "train.txt"
    train.write_text("IMGID:red\nred\tO\ncar\tO\n\nIMGID:blue\nOKC\tB-ORG\n\nIMGID:gone\nno\tO\n\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["index", "build", str(train), "--to", str(tmp_path / "idx"), "--key", "image",
                                 "--images", str(pictures), "--encoder", str(tiny_vit_dir), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index('{"format"'):].splitlines()[0])  # after any warnings
    assert report["key"] == "image" and report["count"] == 2 and report["without_image"] == 1  # gone.jpg is absent
    missing = runner.invoke(app, ["index", "build", str(train), "--to", str(tmp_path / "idx2"), "--key", "image"])
    assert missing.exit_code == 1 and "vision model" in missing.output


def test_a_model_with_image_neighbours_trains_saves_loads_and_predicts(tmp_path, pictures, tiny_bert_dir, tiny_vit_dir):
    import dataclasses

    from mner.checkpoint import from_pretrained
    from mner.config import load_config
    from mner.retrieval.neighbours import INDEX_DIR
    from mner.training.run import train_run
    from posts_factory import make_posts

    names = ["blue", "blue_copy", "red", "green"]  # posts 0 and 1 (both with entities) share pixels
    posts = [dataclasses.replace(p, images=[str(pictures / f"{names[i % 4]}.jpg")]) for i, p in enumerate(make_posts(4))]
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", "train.epochs=3", "train.batch_size=4",
                             "train.patience=0", "model.second_segment=neighbours"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "max_length": 64}
    cfg["model"]["neighbours"] = {"key": "image", "encoder": str(tiny_vit_dir), "k": 1, "none_share": 0.0,
                                  "cache_dir": str(tmp_path / "index-cache")}
    train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    loaded = from_pretrained(tmp_path / "run" / "best")
    assert loaded.context.index.meta["key"] == "image" and (tmp_path / "run" / "best" / INDEX_DIR).is_dir()
    loaded.eval()
    batch = loaded.batch(posts, with_labels=False)
    # post 0 (blue.jpg) and post 1 (blue's pixels under another name) are each other's nearest image
    (hits,) = loaded.context.index.search([posts[0]], k=1)
    assert loaded.context.index.bank[hits[0][0]].id == posts[1].id
    assert batch.posts[0].visual_text["neighbours"] == loaded.context.serialise(hits) == "Google = ORG ; Apple = ORG ; London = LOC"


def test_unreadable_images_are_reported_once_in_a_summary(pictures, tiny_vit_dir, caplog):
    posts = bank(pictures) + [Post(id=f"gone{i}", tokens=["x"], tags=["O"], images=[str(pictures / f"gone{i}.jpg")])
                              for i in range(3)]
    with caplog.at_level("WARNING"):
        index = PostIndex.build(posts, key="image", encoder=str(tiny_vit_dir))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert index.meta["without_image"] == 4 and len(warnings) == 1  # 3 absent files + 1 post without images
    assert warnings[0].startswith("3 image(s) of 7 posts could not be read")
