"""Neural building blocks: text encoders, word features, heads (and later visual/fusion)."""
