import pytest

from mner.config import apply_override, load_config
from mner.evaluation import inference_batches
from mner.training.order import epoch_batches
from mner.training.schedule import LrSchedule


def test_overrides_parse_yaml_values_and_nested_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 3\n  lr: {fusion: 2e-3}\nmodel:\n  head: {name: head.softmax.v1}\n")
    cfg = load_config(path, ["train.lr.encoder=1e-4", "train.bucket_by_length=false", "data.dev=x.txt"])
    assert cfg["train"]["epochs"] == 3 and cfg["train"]["lr"]["encoder"] == 1e-4 and cfg["train"]["lr"]["head"] == 1e-3
    assert cfg["train"]["lr"]["fusion"] == 2e-3  # "2e-3" in a file is a number too, not YAML 1.1's string
    assert cfg["train"]["bucket_by_length"] is False and cfg["data"]["dev"] == "x.txt"
    assert cfg["model"]["head"]["name"] == "head.softmax.v1"
    assert cfg["model"]["encoder"]["model"] == "minilm-l6"  # defaults survive a partial section
    with pytest.raises(ValueError, match="key.sub=value"):
        apply_override(cfg, "no-equals-sign")


@pytest.mark.parametrize("name", ["linear", "constant", "cosine_restarts", "plateau"])
def test_schedules_warm_up_then_follow_their_shape(name):
    s = LrSchedule({"name": name, "warmup": 0.1, "cycle_epochs": 2, "patience": 1, "factor": 0.5}, 100, 10)
    warm = [s.multiplier(i) for i in range(10)]
    assert warm == sorted(warm) and warm[0] < 0.2 and s.multiplier(10) == pytest.approx(1.0)
    if name == "linear":
        assert s.multiplier(99) < 0.02
    if name == "cosine_restarts":
        assert s.multiplier(29) < 0.05 and s.multiplier(30) == pytest.approx(1.0)  # restart after 20 steps
    if name == "plateau":
        s.on_evaluation(50.0)
        s.on_evaluation(49.0)
        assert s.multiplier(50) == pytest.approx(0.5)


def test_batches_are_bucketed_complete_and_reproducible():
    lengths = [(i * 37) % 50 + 1 for i in range(200)]
    a = epoch_batches(lengths, 16, seed=1, epoch=0)
    assert a == epoch_batches(lengths, 16, seed=1, epoch=0)
    assert a != epoch_batches(lengths, 16, seed=1, epoch=1)
    assert sorted(i for b in a for i in b) == list(range(200))
    padded = sum(len(b) * max(lengths[i] for i in b) for b in a)
    assert padded < 1.15 * sum(lengths)  # bucketing keeps padding small
    flat = [i for b in inference_batches(lengths, 64) for i in b]
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_bucketing_by_subwords_uses_the_encoder_row_width(tiny_bert_dir):
    import pytest

    from mner.data.post import Post
    from mner.modules.hf_text_encoder import HfTextEncoder
    from mner.training.loop import bucket_lengths

    encoder = HfTextEncoder.from_name(str(tiny_bert_dir))
    model = type("M", (), {"text_encoder": encoder, "second_segment": None})()
    posts = [Post("a", ["supercalifragilistic", "x"]), Post("b", ["a", "b", "c"])]
    assert bucket_lengths(model, posts, True) == [2, 3] == bucket_lengths(model, posts, "words")
    widths = bucket_lengths(model, posts, "subwords")
    assert widths == [int(encoder.featurize([p.tokens])["attention_mask"].sum()) for p in posts]
    assert widths[0] > widths[1]
    with pytest.raises(ValueError, match="bucket_by_length"):
        bucket_lengths(model, posts, "chars")
