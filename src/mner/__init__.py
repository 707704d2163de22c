"""mner: multimodal named entity recognition for social-media posts."""

from mner.data.post import Entity, Post, Region, SourceRef

__version__ = "0.1.0"
__all__ = ["Entity", "Post", "Region", "SourceRef", "__version__"]
