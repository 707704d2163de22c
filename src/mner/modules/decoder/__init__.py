"""A Hugging Face decoder LLM (Llama, Qwen, Mistral, Gemma, Phi, ...) as the text module, tuned with LoRA.

    loading.py   base model + tokenizer: dtype, 8/4-bit (bitsandbytes), a pad token where the tokenizer has none
    lora.py      LoRA settings, the adapters through PEFT, adapter-only state, merging into the base
    reading.py   how the decoder reads a post: causal | repeat (the post twice, states from the second
                 copy) | bidirectional (the causal mask removed, LLM2Vec-style)
    encoder.py   HfDecoderEncoder: words -> word states (b, w, d), the `encoder.hf_decoder.v1` component
See docs/decoder.md.
"""

from mner.modules.decoder.encoder import HfDecoderEncoder
from mner.modules.decoder.lora import LoraSettings
from mner.modules.decoder.reading import READINGS

__all__ = ["READINGS", "HfDecoderEncoder", "LoraSettings"]
