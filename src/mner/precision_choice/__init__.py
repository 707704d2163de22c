"""Pick the precision a Tagger runs at from measurement on this host (`precision="auto"`).

candidates.py  which of fp32 / bf16 / int8 this host and model can run
calibration.py synthetic posts of the model's typical length, each candidate timed (interleaved)
choice.py      Timing, PrecisionChoice, and the rule (fastest; lossy only if 5% faster than fp32)
cache.py       calibrations per host fingerprint and model digest, JSON under the user cache dir
auto.py        choose_precision: explicit wins, else cached, else measured  -> docs/precision.md
"""

from mner.precision_choice.auto import choose_precision
from mner.precision_choice.cache import ChoiceCache, host_fingerprint, model_digest
from mner.precision_choice.calibration import autocast_of, model_at
from mner.precision_choice.candidates import AUTO, CHOICES, check_choice, precision_candidates
from mner.precision_choice.choice import PrecisionChoice, Timing, pick_fastest

__all__ = ["AUTO", "CHOICES", "ChoiceCache", "PrecisionChoice", "Timing", "autocast_of", "check_choice",
           "choose_precision", "host_fingerprint", "model_at", "model_digest", "pick_fastest",
           "precision_candidates"]
