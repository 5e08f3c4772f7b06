"""Sample buffers: a documented size per iteration, and a cap that keeps the statistics exact."""

from __future__ import annotations

import numpy as np
import pytest

import pinbench
from pinbench.result.measurement import StreamMeasurement, Totals, merged_stats


def test_closed_loop_holds_16_bytes_per_iteration() -> None:
    m = pinbench.measure(pinbench.noop(), warmup=0.05, duration=0.2)
    s = m.streams[0]
    assert s.iterations > 10_000
    assert s.starts_ns.nbytes + s.ends_ns.nbytes == 16 * s.iterations
    assert not s.sampled


def test_cap_bounds_the_samples_and_keeps_totals_exact() -> None:
    m = pinbench.measure(pinbench.spin(20_000), warmup=0.05, duration=0.3, max_samples=200)
    s = m.streams[0]
    assert s.iterations > 200 and s.sampled
    assert s.starts_ns.size == s.ends_ns.size == 200
    assert np.all(np.diff(s.starts_ns) > 0)  # back in time order
    lat = s.latency
    assert lat.count == s.iterations == m.iterations
    assert lat.mean == pytest.approx(s.totals.sum_ns / s.totals.count / 1e6)
    assert lat.min == s.totals.min_ns / 1e6 and lat.max == s.totals.max_ns / 1e6
    assert lat.min >= 0.020  # the spin's length by construction
    w = m.window_ns
    assert w is not None and w[0] <= int(s.starts_ns[0]) and w[1] >= int(s.ends_ns[-1])


def test_capped_statistics_against_the_full_sample() -> None:
    rng = np.random.default_rng(7)
    lat = rng.integers(1_000, 100_000, size=50_000)
    starts = np.cumsum(lat + 10)
    ends = starts + lat
    full = StreamMeasurement(
        0,
        (),
        (),
        0,
        starts,
        ends,
        0,
        Totals(
            lat.size,
            int(lat.sum()),
            float((lat.astype(float) ** 2).sum()),
            int(lat.min()),
            int(lat.max()),
            int(starts[0]),
            int(ends[-1]),
        ),
    )
    keep = np.sort(rng.choice(lat.size, 5_000, replace=False))
    capped = StreamMeasurement(0, (), (), 0, starts[keep], ends[keep], 0, full.totals)
    exact, approx = full.latency, merged_stats([capped])
    assert capped.sampled and not full.sampled
    assert approx.count == exact.count
    assert approx.mean == pytest.approx(exact.mean)
    assert approx.std == pytest.approx(exact.std)
    assert (approx.min, approx.max) == (exact.min, exact.max)
    for p in (25.0, 50.0, 90.0, 99.0):
        assert approx.percentiles[p] == pytest.approx(exact.percentiles[p], rel=0.05)


def test_cli_max_samples(tmp_path: object) -> None:
    r = pinbench.benchmark("squeezenet", time=0.3, warmup_time=0.05, max_samples=5)
    assert r.iterations > 10
    assert all(s.starts_ns.size <= 5 for s in r.measurement.streams)
    assert r.latency.count == r.iterations
