"""Risk factors: their definitions, and windowed computation equal to the whole array."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.risk import FACTORS, RiskSpec, perturbed_weights, risk_factors

SPEC = RiskSpec(
    pixel_size=10.0,
    mining=1,
    half_distance_m=50.0,
    max_distance_m=150.0,
    pressure_radius_m=40.0,
    pressure_saturation=0.2,
    mercury_background=1.3,
    mercury_reference=200.0,
    downstream_radius_m=60.0,
    downstream_drop_scale_m=20.0,
)


def _arrays(shape=(90, 110), seed=0):
    rng = np.random.default_rng(seed)
    after = np.full(shape, 2, dtype=np.uint8)
    after[rng.random(shape) < 0.02] = 1
    after[30:40, 50:70] = 1
    before = after.copy()
    before[30:40, 60:70] = 2  # part of the block is new mining
    mercury = np.exp(rng.uniform(0, 6, shape)).astype(np.float32)
    dem = 200 + 50 * np.sin(np.arange(shape[1]) / 15)[None, :] + np.arange(shape[0])[:, None] * 0.3
    return before, after, mercury, dem


def test_factor_definitions() -> None:
    after = np.full((1, 40), 2, dtype=np.uint8)
    after[0, 0] = 1
    f = risk_factors(after, after, np.full((1, 40), 1.3), np.zeros((1, 40)), SPEC)
    # 50 m from mining -> 0.5; 100 m -> 0.25; beyond 150 m -> 0
    assert f["proximity"][0, 5] == pytest.approx(0.5)
    assert f["proximity"][0, 10] == pytest.approx(0.25)
    assert f["proximity"][0, 16] == 0.0
    assert np.all(f["mercury"] == 0.0)  # background everywhere
    assert np.all(f["pressure"] == 0.0)  # nothing new
    mercury = np.array([[200.0, 1.3, 20000.0]])
    m = risk_factors(np.full((1, 3), 2), np.full((1, 3), 2), mercury, np.zeros((1, 3)), SPEC)[
        "mercury"
    ]
    np.testing.assert_allclose(m[0], [1.0, 0.0, 1.0])
    # Mining 10 m above the cocoa within the radius -> downstream 0.5
    dem = np.zeros((1, 5))
    dem[0, 0] = 10.0
    land = np.array([[1, 2, 2, 2, 2]], dtype=np.uint8)
    d = risk_factors(land, land, np.full((1, 5), 1.3), dem, SPEC)["downstream"]
    assert d[0, 1] == pytest.approx(0.5)


def test_windowed_equals_whole_array() -> None:
    before, after, mercury, dem = _arrays()
    whole = risk_factors(before, after, mercury, dem, SPEC)
    halo, size = SPEC.halo, 32
    rows, cols = after.shape
    pad = lambda a, v: np.pad(a, halo, constant_values=v)  # noqa: E731
    big = [pad(before, 255), pad(after, 255), pad(mercury, 1.3), pad(dem, 0.0)]
    for r0 in range(0, rows, size):
        for c0 in range(0, cols, size):
            h, w = min(size, rows - r0), min(size, cols - c0)
            sl = np.s_[r0 : r0 + h + 2 * halo, c0 : c0 + w + 2 * halo]
            part = risk_factors(*(a[sl] for a in big), SPEC)
            for name in FACTORS:
                np.testing.assert_array_equal(
                    part[name][halo : halo + h, halo : halo + w],
                    whole[name][r0 : r0 + h, c0 : c0 + w],
                    err_msg=f"{name} at window {r0}, {c0}",
                )


def test_too_small_a_halo_would_differ() -> None:
    before, after, mercury, dem = _arrays()
    whole = risk_factors(before, after, mercury, dem, SPEC)["proximity"]
    part = risk_factors(before[:, :40], after[:, :40], mercury[:, :40], dem[:, :40], SPEC)[
        "proximity"
    ]
    assert not np.array_equal(part[:, :40], whole[:, :40])


def test_perturbed_weights_keep_summing_to_one() -> None:
    weights = {"proximity": 0.35, "pressure": 0.25, "mercury": 0.2, "downstream": 0.2}
    sets = perturbed_weights(weights, 0.2)
    assert len(sets) == 1 + 2 * len(FACTORS)
    for _, w in sets:
        assert sum(w.values()) == pytest.approx(1.0)
    assert dict(sets)["pressure +20%"]["pressure"] == pytest.approx(0.30)
