"""Fusion modules: word states + visual tokens -> fused word states (b, w, output_dim).

Each fusion is one file; `registry.py` maps versioned names to them. The
contract is `mner.modules.interfaces.Fusion`; see docs/fusion.md.
"""

from mner.modules.fusion.cross_attention import CrossAttentionFusion
from mner.modules.fusion.gated import GatedFusion
from mner.modules.fusion.linear import LinearFusion
from mner.modules.fusion.partial import PartialPredictionFusion
from mner.modules.fusion.registry import FUSIONS, build_fusion, fusion_options
from mner.modules.fusion.text_only import TextOnlyFusion
from mner.modules.fusion.visual_only import VisualOnlyFusion

__all__ = [
    "FUSIONS",
    "CrossAttentionFusion",
    "GatedFusion",
    "LinearFusion",
    "PartialPredictionFusion",
    "TextOnlyFusion",
    "VisualOnlyFusion",
    "build_fusion",
    "fusion_options",
]
