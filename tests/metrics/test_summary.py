from __future__ import annotations

import statistics

import pytest

from mner.metrics import format_mean_std, mean_std


def test_mean_std_uses_sample_std() -> None:
    values = [85.0, 85.5, 85.43]
    mean, std = mean_std(values)
    assert mean == pytest.approx(statistics.mean(values))
    assert std == pytest.approx(statistics.stdev(values))


def test_single_value_has_zero_std() -> None:
    assert mean_std([71.2]) == (71.2, 0.0)


def test_empty_is_an_error() -> None:
    with pytest.raises(ValueError):
        mean_std([])


def test_format() -> None:
    assert format_mean_std([85.0, 85.62]) == "85.31 ± 0.44"
    assert format_mean_std([1.0], digits=1) == "1.0 ± 0.0"
