"""The choice rule and the calibration loop, with an injected clock: deterministic."""

from __future__ import annotations

import pytest

from mner.precision_choice.calibration import synthetic_posts, time_candidates
from mner.precision_choice.choice import PrecisionChoice, Timing, pick_fastest


class FakeClock:
    """A clock that moves only when a fake pass runs: each pass costs a scripted number of seconds."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.now

    def runner(self, name: str, costs: list[float]):
        costs = list(costs)

        def run() -> None:
            self.calls.append(name)
            self.now += costs.pop(0)

        return run


def timing(precision: str, seconds: float) -> Timing:
    return Timing(precision, 64, (seconds,))


def test_the_fastest_candidate_wins():
    assert pick_fastest([timing("fp32", 0.30), timing("bf16", 0.45), timing("int8", 0.20)]) == "int8"
    assert pick_fastest([timing("fp32", 0.30), timing("bf16", 0.45), timing("int8", 0.40)]) == "fp32"


def test_a_lossy_candidate_must_beat_fp32_by_the_margin():
    # int8 2% faster: within timing noise, so fp32 (no accuracy cost) is kept
    assert pick_fastest([timing("fp32", 0.102), timing("int8", 0.100)]) == "fp32"
    assert pick_fastest([timing("fp32", 0.102), timing("int8", 0.100)], margin=0.0) == "int8"
    assert pick_fastest([timing("fp32", 0.110), timing("int8", 0.100)]) == "int8"  # 10% faster
    assert pick_fastest([timing("bf16", 0.2), timing("int8", 0.1)]) == "int8"  # no lossless candidate
    with pytest.raises(ValueError):
        pick_fastest([])


def test_timing_uses_the_median_pass():
    t = Timing("fp32", 64, (0.2, 5.0, 0.4))  # one pass hit by someone else's load
    assert t.median_seconds == pytest.approx(0.4)
    assert t.posts_per_s == pytest.approx(160.0)
    assert Timing.from_dict(t.to_dict()) == t


def test_time_candidates_interleaves_after_warmup_with_an_injected_clock():
    clock = FakeClock()
    runners = {"fp32": clock.runner("fp32", [9.0, 0.30, 0.31, 0.29]),  # the warm-up pass is not timed
               "bf16": clock.runner("bf16", [9.0, 0.45, 0.44, 0.46]),
               "int8": clock.runner("int8", [9.0, 0.20, 0.90, 0.21])}
    timings = time_candidates(runners, posts=64, timer=clock, warmup=1, repeats=3)
    assert clock.calls == ["fp32", "bf16", "int8"] + ["fp32", "bf16", "int8"] * 3
    assert [t.seconds for t in timings] == [pytest.approx((0.30, 0.31, 0.29)), pytest.approx((0.45, 0.44, 0.46)),
                                            pytest.approx((0.20, 0.90, 0.21))]
    assert pick_fastest(timings) == "int8"  # its 0.90 outlier does not count: the median does


def test_choice_round_trips_through_json_and_says_what_it_measured():
    choice = PrecisionChoice("int8", "measured", (timing("fp32", 0.32), timing("int8", 0.16)), ("fp32", "int8"))
    assert PrecisionChoice.from_dict(choice.to_dict()) == choice
    assert choice.describe() == "int8 (measured; posts/s: fp32 200, int8 400)"
    assert PrecisionChoice("bf16", "explicit").describe() == "bf16 (explicit)"


def test_synthetic_posts_have_the_asked_length_and_the_model_s_visual_text():
    posts = synthetic_posts(20, count=8, visual_text_fields=("knowledge",))
    assert len(posts) == 8 and all(len(p.tokens) == 20 for p in posts)
    assert len({tuple(p.tokens) for p in posts}) == 8  # different words per post, like a real batch
    assert all(p.visual_text["knowledge"] for p in posts)


def test_a_slow_first_round_ends_the_calibration_within_its_budget():
    clock = FakeClock()
    runners = {"fp32": clock.runner("fp32", [1.0, 3.0, 3.0, 3.0]), "int8": clock.runner("int8", [1.0, 2.0, 2.0, 2.0])}
    timings = time_candidates(runners, posts=32, timer=clock, warmup=1, repeats=3, budget_s=4.0)
    assert [t.seconds for t in timings] == [(3.0,), (2.0,)]  # 5 s spent after one round: no second round
    assert pick_fastest(timings) == "int8"
