from __future__ import annotations

import torch
from safetensors.torch import save_file
from torch import nn
from visual_helpers import grads, post, roundtrip

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
