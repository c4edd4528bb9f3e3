"""The quantile the bench tables print: nearest rank over the sorted values."""

from __future__ import annotations

from collections.abc import Sequence


def nearest_rank(values: Sequence[float], p: float) -> float:
    """The ``p`` quantile (0..1) of ``values`` by nearest rank; NaN if there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]
