"""Visual prefix prompts: exactly the stock encoder when inactive; the image changes every layer when active."""

import torch

from mner.modules.hf_text_encoder import HfTextEncoder
from mner.modules.interfaces import VisualTokens
from mner.modules.visual_prompt import VisualPrompt, enable_prefix_attention, prompts_active


def test_prefix_attention_is_sdpa_when_inactive_and_sees_the_image_when_active(tiny_bert_dir):
    plain = HfTextEncoder.from_name(str(tiny_bert_dir)).eval()
    prompted = HfTextEncoder.from_name(str(tiny_bert_dir)).eval()
    enable_prefix_attention(prompted.backbone)
    features = plain.featurize([["alice", "in", "paris"], ["bob"]])  # padding in row 2 exercises the mask
    config = prompted.backbone.config
    prompt = VisualPrompt(8, config.num_hidden_layers, config.num_attention_heads, config.hidden_size, 0.0)
    with torch.no_grad():
        base = plain(features)
        assert torch.allclose(prompted(features), base, atol=1e-5)
        image_a = VisualTokens(torch.randn(2, 3, 8), torch.tensor([[True, True, False], [True, False, False]]))
        with prompts_active(prompt(image_a)):
            with_a = prompted(features)
        assert not torch.allclose(with_a, base, atol=1e-3)
        # a masked-out visual token has no effect
        changed = VisualTokens(image_a.tokens.clone(), image_a.mask)
        changed.tokens[0, 2] += 100.0
        with prompts_active(prompt(changed)):
            assert torch.allclose(prompted(features), with_a, atol=1e-5)
