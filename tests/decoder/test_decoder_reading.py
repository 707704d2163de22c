"""How the decoder reads a post: causal vs repeat vs bidirectional, layer choice, pooling, padding."""

from __future__ import annotations

import pytest
import torch

from mner.modules.decoder import HfDecoderEncoder
from mner.modules.decoder.loading import load_base, load_tokenizer


def _encoder(model_dir, **options) -> HfDecoderEncoder:
    torch.manual_seed(0)
    encoder = HfDecoderEncoder(load_base(str(model_dir), torch.float32), load_tokenizer(model_dir), str(model_dir),
                               **options)
    return encoder.eval()


def _states(encoder, token_lists):
    with torch.no_grad():
        return encoder(encoder.featurize(token_lists))  # (b, w, d)


@pytest.mark.parametrize("reading, first_word_sees_later_words", [
    ("causal", False), ("repeat", True), ("bidirectional", True)])
def test_what_the_first_word_sees(tiny_decoder_dir, reading, first_word_sees_later_words):
    encoder = _encoder(tiny_decoder_dir, reading=reading)
    a, b = _states(encoder, [["alice", "wins", "in", "paris"], ["alice", "loves", "new", "york"]])
    changed = not torch.allclose(a[0], b[0], atol=1e-6)
    assert changed == first_word_sees_later_words


@pytest.mark.parametrize("reading", ["causal", "repeat", "bidirectional"])
def test_padding_never_changes_a_state(tiny_llama_dir, reading):
    """The Llama tokenizer has no pad token; a short post padded beside a long one reads as it does alone."""
    encoder = _encoder(tiny_llama_dir, reading=reading)
    assert encoder.tokenizer.pad_token is not None
    alone = _states(encoder, [["bob", "wins"]])
    batched = _states(encoder, [["bob", "wins"], ["the", "new", "york", "city", "festival", "day", "with", "fans"]])
    assert torch.allclose(alone[0], batched[0, :2], atol=1e-5)


def test_repeat_rows_hold_the_post_twice(tiny_llama_dir):
    encoder = _encoder(tiny_llama_dir, reading="repeat")
    once = encoder.featurizer.inner([["bob", "smith"]])["input_ids"][0].tolist()
    twice = encoder.featurize([["bob", "smith"]])["input_ids"][0].tolist()
    prefix = len(encoder.featurizer.special.prefix)
    body = once[prefix:]
    assert twice == once[:prefix] + body + body
    assert encoder.featurizer.encoded_length(["bob", "smith"]) == len(twice)


def test_layer_zero_reads_the_embeddings(tiny_qwen_dir):
    encoder = _encoder(tiny_qwen_dir, layer=0, pooling="first")
    features = encoder.featurize([["alice", "wins"]])
    embeddings = encoder.base_model.get_input_embeddings()(features["input_ids"])  # (r, s, d)
    flat = embeddings.reshape(-1, embeddings.shape[-1])
    with torch.no_grad():
        assert torch.allclose(encoder(features)[0], flat[features["word_index"][0, :, 0]])


def test_last_pooling_takes_each_words_last_subword(tiny_llama_dir):
    encoder = _encoder(tiny_llama_dir, pooling="last")
    first = _encoder(tiny_llama_dir, pooling="first")
    words = [["alice", "xyzzy"]]  # "xyzzy" splits into several pieces
    index_last = encoder.featurize(words)["word_index"][0, :, 0]
    index_first = first.featurize(words)["word_index"][0, :, 0]
    assert index_last[0] == index_first[0] and index_last[1] > index_first[1]
    assert encoder.featurize(words)["subwords_per_word"][0, 1] == index_last[1] - index_first[1] + 1
