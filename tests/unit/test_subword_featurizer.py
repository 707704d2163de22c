import pytest
import torch

from mner.modules.hf_text_encoder import HfTextEncoder


def test_first_subword_alignment_and_unknown_words(tiny_bert_dir):
    encoder = HfTextEncoder.from_name(str(tiny_bert_dir))
    features = encoder.featurize([["Alice", "wins", "😀"], ["paris"]])
    ids = features["input_ids"]
    tok = encoder.tokenizer
    assert ids[0, 0].item() == tok.cls_token_id
    # every word points at its first piece; a word with no pieces becomes [UNK]
    first = features["word_index"][0, :, 0]
    assert ids.flatten()[first].tolist()[-1] == tok.unk_token_id
    assert features["subwords_per_word"][0].tolist()[:2] == [1, 1]
    states = encoder(features)
    assert states.shape == (2, 3, 32)


def test_long_post_is_chunked_not_truncated(tiny_bert_dir):
    encoder = HfTextEncoder.from_name(str(tiny_bert_dir), max_length=8)
    words = ["alice", "bob", "smith", "apple"] * 6  # 24 one-piece words, rows hold 6
    features = encoder.featurize([words])
    assert features["input_ids"].shape[0] == 4  # 4 rows of 6 words
    assert (features["subwords_per_word"][0] == 1).all()
    states = encoder(features)
    assert states.shape == (1, 24, 32)
    # each chunk is encoded exactly like that chunk alone
    alone = encoder(encoder.featurize([words[6:12]]))
    encoder.eval()
    with torch.no_grad():
        assert torch.allclose(encoder(features)[0, 6:12], encoder(encoder.featurize([words[6:12]]))[0], atol=1e-5)
    assert alone.shape == (1, 6, 32)


def test_second_segment_gets_type_one_and_does_not_shift_words(tiny_bert_dir):
    encoder = HfTextEncoder.from_name(str(tiny_bert_dir))
    plain = encoder.featurize([["alice", "in", "paris"]])
    paired = encoder.featurize([["alice", "in", "paris"]], ["a city at night"])
    assert torch.equal(plain["word_index"], paired["word_index"])
    types = paired["token_type_ids"][0].tolist()
    n_plain = plain["input_ids"].shape[1]
    assert types[:n_plain] == [0] * n_plain and set(types[n_plain:]) == {1}
    assert plain["token_type_ids"].sum() == 0


def test_mean_pooling_averages_a_words_pieces(tiny_bert_dir):
    encoder = HfTextEncoder.from_name(str(tiny_bert_dir), pooling="mean").eval()
    features = encoder.featurize([["alicez", "paris"]])
    n = features["subwords_per_word"][0, 0].item()
    assert n > 1
    with torch.no_grad():
        hidden = encoder.backbone(input_ids=features["input_ids"], attention_mask=features["attention_mask"]).last_hidden_state
        states = encoder(features)
    assert torch.allclose(states[0, 0], hidden[0, 1 : 1 + n].mean(0), atol=1e-5)


def test_encoded_length_is_the_row_width_a_post_pads_to(tiny_bert_dir):
    """Inference sorts posts by it, so it must be the width featurize really produces."""
    encoder = HfTextEncoder.from_name(str(tiny_bert_dir), max_length=16, second_max_length=5)
    featurizer = encoder.featurizer
    cases = [(["Alice", "wins", "😀"], None), (["paris"], "a city at night with many lights and cars"),
             (["alice", "bob"] * 12, None), (["alice", "bob"] * 12, "a caption"), (["Ünïcödé", "#hashtag"], "x")]
    for words, second in cases:
        width = int(featurizer([words], [second] if second else None)["attention_mask"].sum(1).max())
        assert featurizer.encoded_length(words, second) == width, (words, second)


def test_inference_batches_follow_subwords_not_words(tiny_bert_dir):
    from mner.data.post import Post
    from mner.evaluation import encoder_lengths

    encoder = HfTextEncoder.from_name(str(tiny_bert_dir))
    model = type("M", (), {"text_encoder": encoder, "second_segment": "caption"})()
    posts = [Post("a", ["supercalifragilistic", "x"], visual_text={"caption": "a b c d e"}), Post("b", ["a", "b", "c"])]
    lengths = encoder_lengths(model, posts)
    assert lengths[0] > lengths[1]  # two words, but more subwords (and a second segment) than three
    assert encoder_lengths(object(), posts) == [2, 3]  # no featurizer (BiLSTM): word counts


def test_url_placeholder_replaces_every_url_for_the_encoder_only(tiny_bert_dir):
    plain = HfTextEncoder.from_name(str(tiny_bert_dir))
    short = HfTextEncoder.from_name(str(tiny_bert_dir), url_placeholder="new")
    words = ["alice", "http://t.co/Z3neVBQ7vF", "in", "www.paris.org", "HTTPS://x.io/a"]
    features = short.featurize([words])
    # each URL is the placeholder's one piece; the other words keep theirs and every word keeps a state
    assert features["subwords_per_word"][0].tolist() == [1, 1, 1, 1, 1]
    new_id = short.tokenizer.convert_tokens_to_ids("new")
    first = features["word_index"][0, :, 0]
    assert features["input_ids"].flatten()[first].tolist()[1::2] == [new_id, new_id]
    assert plain.featurize([words])["subwords_per_word"][0, 1].item() > 5
    assert short.featurizer.encoded_length(words) == 2 + 5 < plain.featurizer.encoded_length(words)
    # not a URL: a word merely containing "http" is tokenized as usual
    assert short.featurizer.word_pieces("xhttp") == plain.featurizer.word_pieces("xhttp")


def test_url_placeholder_must_be_a_known_word(tiny_bert_dir):
    with pytest.raises(ValueError, match="url_placeholder"):
        HfTextEncoder.from_name(str(tiny_bert_dir), url_placeholder="😀")


def test_url_placeholder_survives_save_and_load(tiny_bert_dir, tmp_path):
    from mner.builders import build_model
    from mner.checkpoint import from_pretrained, save_pretrained

    cfg = {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "url_placeholder": "new"},
           "head": {"name": "head.crf.v1"}}
    model = build_model(cfg, ["O", "B-PER", "I-PER"])
    save_pretrained(model, tmp_path / "m")
    loaded = from_pretrained(tmp_path / "m")
    assert loaded.text_encoder.featurizer.url_placeholder == "new"
    assert loaded.text_encoder.featurizer.encoded_length(["http://t.co/abcdef"]) == 3
