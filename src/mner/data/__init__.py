"""Data layer: the canonical `Post` type, tag schemes, images and readers."""
