"""Visual modules: posts -> VisualTokens (b, v, d) with mask (b, v); see docs/visual.md.

PixelEncoder          images through any Hugging Face vision model (pooled or patch tokens)
MultiImageAggregator  image positions + attention across a post's images (wraps PixelEncoder)
CnnImageEncoder       a small AlexNet-style CNN trained from scratch (no pretrained vision model)
CaptionEncoder        visual text (caption / OCR / knowledge) as subword tokens
RegionEncoder         detector regions: feature + box geometry
FeatureCache          frozen backbone features on disk, keyed by image content
"""

from mner.modules.visual.caption import CaptionEncoder
from mner.modules.visual.cnn import CnnImageEncoder
from mner.modules.visual.feature_cache import FeatureCache
from mner.modules.visual.image_tokens import PerImageModule, scatter_to_posts
from mner.modules.visual.multi_image import MultiImageAggregator
from mner.modules.visual.pixels import PixelEncoder
from mner.modules.visual.post_images import BAD_IMAGE_POLICIES, BadImageLog
from mner.modules.visual.regions import RegionEncoder

__all__ = [
    "BAD_IMAGE_POLICIES",
    "BadImageLog",
    "CaptionEncoder",
    "CnnImageEncoder",
    "FeatureCache",
    "MultiImageAggregator",
    "PerImageModule",
    "PixelEncoder",
    "RegionEncoder",
    "scatter_to_posts",
]
