"""Tagging heads: emissions over word states -> loss and decoded tags."""
