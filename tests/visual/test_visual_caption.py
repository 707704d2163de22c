from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from visual_helpers import count_calls, grads, post, roundtrip

from mner.modules.hf_text_encoder import HfTextEncoder
from mner.modules.visual import CaptionEncoder

POSTS = [
    post("both", visual_text={"caption": "alice in paris", "ocr": "rt new york"}),
    post("none", visual_text={"knowledge": "ignored field"}),
    post("ocr", visual_text={"caption": "   ", "ocr": "game"}),
]


def pieces(encoder: HfTextEncoder, text: str) -> int:
    return len(encoder.tokenizer(text, add_special_tokens=False)["input_ids"])


def test_shapes_masks_and_no_text_token(tiny_bert_dir):
    text = HfTextEncoder.from_name(str(tiny_bert_dir))
    caption = CaptionEncoder(text, output_dim=8, fields=["caption", "ocr"], shared=True)
    features = caption.featurize(POSTS)
    assert features["caption_input_ids"].shape[0] == 3  # rows: both's caption + ocr, ocr's ocr
    n_both = pieces(text, "alice in paris") + pieces(text, "rt new york")
    out = caption(features)
    assert out.tokens.shape == (3, n_both, 8)
    assert out.mask.sum(1).tolist() == [n_both, 1, pieces(text, "game")]  # one mask bit per subword
    assert features["caption_field"][0, : pieces(text, "alice in paris")].eq(0).all()  # caption first, then ocr
    assert features["caption_field"][2, 0].item() == 1
    assert torch.equal(out.tokens[1, 0], caption.no_text)
    assert out.mask[:, 0].all()


def test_shared_encoder_is_not_duplicated_in_the_state_dict(tiny_bert_dir, tmp_path):
    text = HfTextEncoder.from_name(str(tiny_bert_dir))
    caption = CaptionEncoder(text, output_dim=8, shared=True)
    assert not any(name.startswith(("own_encoder", "_shared")) for name in caption.state_dict())
    model = nn.ModuleDict({"text_encoder": text, "visual": caption})  # like an MnerModel holding both
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "m.safetensors"))


def test_gradient_reaches_the_text_backbone_unless_frozen(tiny_bert_dir):
    for frozen in (False, True):
        text = HfTextEncoder.from_name(str(tiny_bert_dir))
        caption = CaptionEncoder(text, output_dim=8, fields=["caption", "ocr"], shared=True, frozen=frozen)
        caption(caption.featurize(POSTS)).tokens.sum().backward()
        got = [g is not None and g.abs().sum() > 0 for g in grads(text, "backbone.")]
        assert any(got) != frozen
        assert caption.projection.weight.grad is not None and caption.no_text.grad is not None


def test_batch_without_any_visual_text(tiny_bert_dir):
    caption = CaptionEncoder.from_name(str(tiny_bert_dir), output_dim=8)
    out = caption(caption.featurize([post("a"), post("b", visual_text={"caption": ""})]))
    assert out.tokens.shape == (2, 1, 8) and out.mask.all()


def test_own_encoder_round_trip(tiny_bert_dir, tmp_path):
    kwargs = dict(output_dim=8, fields=["caption", "ocr"], frozen=True)
    caption = CaptionEncoder.from_name(str(tiny_bert_dir), **kwargs).eval()
    assert all(not p.requires_grad for p in caption.own_encoder.parameters())
    rebuilt = roundtrip(caption, tmp_path / "saved", lambda d: CaptionEncoder.from_saved(d, **kwargs)).eval()
    with torch.no_grad():
        a, b = caption(caption.featurize(POSTS)), rebuilt(rebuilt.featurize(POSTS))
    assert torch.equal(a.mask, b.mask) and torch.allclose(a.tokens, b.tokens, atol=1e-6)


def test_shared_round_trip_uses_the_rebuilt_text_encoder(tiny_bert_dir, tmp_path):
    text = HfTextEncoder.from_name(str(tiny_bert_dir))
    caption = CaptionEncoder(text, output_dim=8, shared=True).eval()
    rebuilt = roundtrip(caption, tmp_path / "saved",
                        lambda d: CaptionEncoder.from_saved(d, shared_encoder=text, output_dim=8)).eval()
    assert not (tmp_path / "saved" / "caption_encoder").exists()  # the text side saves the shared encoder
    with torch.no_grad():
        assert torch.allclose(caption(caption.featurize(POSTS)).tokens, rebuilt(rebuilt.featurize(POSTS)).tokens)


def test_frozen_own_encoder_states_are_cached_and_match_a_live_pass(tiny_bert_dir, tmp_path):
    kwargs = dict(output_dim=8, fields=["caption", "ocr"], frozen=True)
    live = CaptionEncoder.from_name(str(tiny_bert_dir), **kwargs).eval()
    cached = CaptionEncoder.from_name(str(tiny_bert_dir), cache_dir=tmp_path / "cache", **kwargs).eval()
    cached.load_state_dict(live.state_dict())
    calls = count_calls(cached.own_encoder.backbone)
    first = cached.featurize(POSTS)
    assert calls.calls == 1 and cached.cache.misses == 3 and cached.cache.hits == 0  # three rows, one batch
    again = cached.featurize(POSTS)  # a second epoch: read back, not encoded
    assert calls.calls == 1 and cached.cache.hits == 3
    assert torch.equal(first["caption_hidden"], again["caption_hidden"])
    with torch.no_grad():
        a, b = live(live.featurize(POSTS)), cached(again)
    assert calls.calls == 1  # forward used the states from featurize
    assert torch.equal(a.mask, b.mask) and torch.allclose(a.tokens, b.tokens, atol=1e-5)


def test_cached_states_follow_the_weights_and_survive_save_load(tiny_bert_dir, tmp_path):
    kwargs = dict(output_dim=8, fields=["caption", "ocr"], frozen=True, cache_dir=tmp_path / "cache")
    caption = CaptionEncoder.from_name(str(tiny_bert_dir), **kwargs).eval()
    caption.featurize(POSTS)
    rebuilt = roundtrip(caption, tmp_path / "saved", lambda d: CaptionEncoder.from_saved(d, **kwargs)).eval()
    calls = count_calls(rebuilt.own_encoder.backbone)
    rebuilt.featurize(POSTS)
    assert calls.calls == 0 and rebuilt.cache.hits == 3  # same weights, same model id: same cache entries
    with torch.no_grad():
        next(rebuilt.own_encoder.backbone.parameters()).add_(0.5)
    rebuilt._cache = None  # changed weights -> new fingerprint -> nothing reused
    rebuilt.featurize(POSTS)
    assert calls.calls == 1 and rebuilt.cache.hits == 0


def test_cache_needs_a_separate_frozen_encoder(tiny_bert_dir, tmp_path):
    text = HfTextEncoder.from_name(str(tiny_bert_dir))
    for shared, frozen in ((True, True), (False, False)):
        with pytest.raises(ValueError, match="separate frozen encoder"):
            CaptionEncoder(text, shared=shared, frozen=frozen, cache_dir=tmp_path)
