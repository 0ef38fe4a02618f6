"""Risk factors: their definitions, and windowed computation equal to the whole array."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.flow import (
    OFFSETS,
    condition_dem,
    count_undrained,
    d8_directions,
    flow_distance_from,
    undrained_mask,
)
from cocoa_threat.analysis.risk import (
    FACTORS,
    RiskSpec,
    perturbed_weights,
    risk_factors,
    sensitivity_scenarios,
)

SPEC = RiskSpec(
    pixel_size=10.0,
    mining=1,
    half_distance_m=50.0,
    max_distance_m=150.0,
    pressure_radius_m=40.0,
    pressure_saturation=0.2,
    mercury_background=1.3,
    mercury_reference=200.0,
    downstream_half_distance_m=30.0,
    downstream_max_distance_m=100.0,
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
    # A slope falling to the east from a pit at column 0: 30 m of flow -> 0.5, 60 m -> 0.25,
    # beyond 100 m -> 0; uphill of the pit -> 0.
    dem = 100.0 - np.arange(14, dtype=float)[None, :]
    land = np.full((1, 14), 2, dtype=np.uint8)
    land[0, 2] = 1
    d = risk_factors(land, land, np.full((1, 14), 1.3), dem, SPEC)["downstream"]
    assert d[0, 5] == pytest.approx(0.5) and d[0, 8] == pytest.approx(0.25)
    assert d[0, 13] == 0.0 and d[0, 0] == 0.0 and d[0, 1] == 0.0
    # Outside the mercury surface's coverage (NaN): no evidence, factor 0.
    m = risk_factors(land, land, np.full((1, 14), np.nan), dem, SPEC)["mercury"]
    assert np.all(m == 0.0)


def _two_valleys() -> np.ndarray:
    """Valley A (columns < 30, floor at column 15) and a deeper valley B beyond a ridge.

    Both fall to the south (rows grow); B lies 30 m lower than A.
    """
    rows, cols = np.mgrid[:60, :60].astype(float)
    a = 100 + 2 * np.abs(cols - 15) + 0.5 * (60 - rows)
    b = 70 + 2 * np.abs(cols - 45) + 0.5 * (60 - rows)
    return np.where(cols < 30, a, b)


def test_cocoa_below_a_pit_scores_higher_than_cocoa_over_the_ridge() -> None:
    dem = _two_valleys()
    land = np.full(dem.shape, 2, dtype=np.uint8)
    land[10, 15] = 1  # a pit on the floor of valley A, upstream
    spec = SPEC.__class__(
        **{
            **SPEC.__dict__,
            "downstream_half_distance_m": 500.0,
            "downstream_max_distance_m": 2000.0,
        }
    )
    d = risk_factors(land, land, np.full(dem.shape, 1.3), dem, spec)["downstream"]
    below, over_the_ridge = d[30, 15], d[12, 45]
    assert dem[12, 45] < dem[10, 15] - 20  # lower than the pit, but in another catchment
    assert below == pytest.approx(2 ** (-200 / 500))  # 20 px of flow down the valley floor
    assert over_the_ridge == 0.0 and below > over_the_ridge
    assert d[5, 15] == 0.0  # upstream of the pit


def test_flow_paths_follow_the_steepest_descent() -> None:
    dem = _two_valleys()
    directions = d8_directions(dem, 10.0)
    # On the valley floor water runs south; on the slopes it runs towards the floor.
    assert OFFSETS[directions[20, 15]] == (1, 0)
    assert OFFSETS[directions[20, 10]] in ((0, 1), (1, 1))
    sources = np.zeros(dem.shape, bool)
    sources[10, 15] = True
    dist = flow_distance_from(sources, directions, 10.0, limit=1000.0)
    assert dist[10, 15] == 0 and dist[11, 15] == 10 and dist[30, 15] == 200
    assert np.isinf(dist[12, 45]) and np.isinf(dist[9, 15])


def test_nodata_in_the_first_map_is_not_new_mining() -> None:
    before = np.full((20, 20), 255, dtype=np.uint8)  # the first map has no data
    after = np.full((20, 20), 2, dtype=np.uint8)
    after[8:12, 8:12] = 1
    f = risk_factors(before, after, np.full((20, 20), 1.3), np.zeros((20, 20)), SPEC)
    assert np.all(f["pressure"] == 0.0)
    before[:] = 2  # mapped as cocoa before: now it is new mining
    f = risk_factors(before, after, np.full((20, 20), 1.3), np.zeros((20, 20)), SPEC)
    assert f["pressure"].max() > 0


@pytest.mark.parametrize("conditioned", [False, True])
def test_windowed_equals_whole_array(conditioned: bool) -> None:
    before, after, mercury, dem = _arrays()
    if conditioned:  # pits, then conditioned once for the whole array, as the pipeline does
        dem = condition_dem(dem + _noise(dem.shape), 1e-9)
    whole = risk_factors(before, after, mercury, dem, SPEC)
    halo, size = SPEC.halo, 32
    rows, cols = after.shape
    pad = lambda a, v: np.pad(a, halo, constant_values=v)  # noqa: E731
    big = [pad(before, 255), pad(after, 255), pad(mercury, np.nan), pad(dem, np.nan)]
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


def _noise(shape: tuple[int, int], seed: int = 3, metres: float = 3.0) -> np.ndarray:
    """Rough ground: a pit every few cells."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    return metres * ndimage.gaussian_filter(rng.standard_normal(shape), 1.0)


def _pitted_valley(n: int = 160) -> np.ndarray:
    """A valley falling south, 3 m of rough ground on it (pits and flats everywhere)."""
    rows, cols = np.mgrid[:n, :n].astype(float)
    return 100 + 0.3 * np.abs(cols - n / 2) + 0.2 * (n - rows) + _noise((n, n))


def test_conditioning_drains_every_cell_and_only_raises() -> None:
    dem = _pitted_valley()
    dem[40:44, 50:60] = np.nan  # a hole with no data: never filled, never a path
    stairs = np.repeat(np.repeat(dem[::3, ::3], 3, axis=0), 3, axis=1)  # 30 m -> 10 m, nearest
    for z in (dem, stairs):
        raw = undrained_mask(d8_directions(z, 10.0), z)
        assert raw.sum() > 100  # flow stops in many pits (and on the steps of the stairs)
        out = condition_dem(z, 1e-9)
        assert count_undrained(out, 10.0, rows_per_band=7) == 0
        assert np.isnan(out[np.isnan(z)]).all() and np.isfinite(out[np.isfinite(z)]).all()
        ok, z32 = np.isfinite(z), z.astype(np.float32).astype(np.float64)  # float32 precision
        assert (out[ok] >= z32[ok]).all()
        # Cells that already drained to lower ground keep their elevation (up to the
        # flat gradient), pits are raised.
        assert np.abs(out - z32)[ok & ~raw].min() == 0.0 and (out - z32)[raw].max() > 0.1
    assert undrained_mask(d8_directions(stairs, 10.0), stairs).mean() > 0.3
    assert count_undrained(dem, 10.0, 7) == undrained_mask(d8_directions(dem, 10.0), dem).sum()


def test_downstream_reach_matches_the_library_routing() -> None:
    """The factor reaches where pyflwdir's own flow paths go, on the conditioned DEM.

    pyflwdir routes each cell to the neighbour its priority queue came from (the
    lowest), D8 to the steepest per metre: single paths differ over rough ground,
    the area reached within the limit largely agrees. Over the raw DEM it does not.
    """
    import pyflwdir

    dem = _pitted_valley()
    mine = np.zeros(dem.shape, bool)
    mine[20:26, 70:90] = True
    mine[60:64, 30:36] = True
    limit = 600.0
    conditioned = condition_dem(dem, 1e-9)
    downstream = pyflwdir.from_dem(conditioned).idxs_ds  # the library's flow paths
    library = np.zeros(dem.size, bool)
    for start in np.flatnonzero(mine):
        cell, run = start, 0.0
        while run <= limit:
            library[cell] = True
            if downstream[cell] == cell:
                break
            step = np.subtract(
                np.divmod(downstream[cell], dem.shape[1]), np.divmod(cell, dem.shape[1])
            )
            run, cell = run + 10.0 * np.hypot(*step), downstream[cell]
    library = library.reshape(dem.shape)

    def reach(z: np.ndarray) -> np.ndarray:
        return np.isfinite(flow_distance_from(mine, d8_directions(z, 10.0), 10.0, limit))

    ours, raw = reach(conditioned), reach(dem)
    recall = (ours & library).sum() / library.sum()
    assert recall > 0.85 and (ours & library).sum() / (ours | library).sum() > 0.7
    assert (raw & library).sum() / library.sum() < 0.6  # the raw DEM stops in the pits
    # The factor is > 0 exactly where D8 reaches (its distance limit set to the same).
    spec = SPEC.__class__(**{**SPEC.__dict__, "downstream_max_distance_m": limit})
    factor = risk_factors(mine, mine, np.full(dem.shape, 1.3), conditioned, spec)["downstream"]
    np.testing.assert_array_equal(factor > 0, ours)


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
    assert len(sets) == 2 * len(FACTORS)
    for _, w in sets:
        assert sum(w.values()) == pytest.approx(1.0)
    assert dict(sets)["pressure +20%"]["pressure"] == pytest.approx(0.30)


def test_sensitivity_moves_weights_breaks_and_distances_one_at_a_time() -> None:
    weights = {"proximity": 0.35, "pressure": 0.25, "mercury": 0.2, "downstream": 0.2}
    scenarios = sensitivity_scenarios(weights, [0.25, 0.5, 0.75], SPEC, 0.2)
    groups = [s.group for s in scenarios]
    assert groups.count("baseline") == 1 and groups.count("weight") == 8
    assert groups.count("class break") == 6 and groups.count("distance") == 12
    by_label = {s.label: s for s in scenarios}
    assert by_label["break 2 (0.5) +20%"].breaks == [0.25, 0.6, 0.75]
    assert by_label["downstream max distance -20%"].spec.downstream_max_distance_m == 80.0
    assert by_label["downstream max distance -20%"].spec.half_distance_m == SPEC.half_distance_m
    assert by_label["pressure saturation +20%"].spec.pressure_saturation == pytest.approx(0.24)
    assert len(sensitivity_scenarios(weights, [0.5], SPEC, 0.2, distances=False)) == 11


# --------------------------------------------------------------------------- #
# Windowed on rasters: the same on Dask; the incremental sensitivity
# --------------------------------------------------------------------------- #
def _rasters(tmp_path, shape=(90, 110)):
    from cocoa_threat.analysis.risk import RiskInputs
    from cocoa_threat.geo.grid import RasterSource
    from tests.conftest import write_tile

    before, after, mercury, dem = _arrays(shape)
    after[:, 100:] = 255  # no data in the second map
    mercury[:20, :30] = np.nan  # beyond the survey
    dem[60:70, 10:20] = -9999.0
    specs = (
        ("before", before, 255),
        ("after", after, 255),
        ("mercury", mercury.astype(np.float32), None),
        ("dem", dem.astype(np.float32), -9999.0),
    )
    paths = [write_tile(tmp_path / f"{n}.tif", a[None], nodata=nd) for n, a, nd in specs]
    sources = [RasterSource.open(p) for p in paths]
    arrays = (before, after, np.where(np.isnan(mercury), np.nan, mercury), dem)
    return RiskInputs(*sources, dem_nodata=-9999.0), arrays


def _written(tmp_path, name, producer):
    import rasterio

    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource

    write_cog(tmp_path / f"{name}.tif", producer, overview_levels=[])
    with rasterio.open(tmp_path / f"{name}.tif") as src:
        return RasterSource.open(tmp_path / f"{name}.tif"), src.read()


def test_factors_score_classes_and_tables_are_the_same_on_dask(tmp_path, dask_compute) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from cocoa_threat.analysis.risk import (
        Scenario,
        class_producer,
        factor_producer,
        risk_counts,
        score_producer,
    )

    inputs, _ = _rasters(tmp_path)
    weights = {"proximity": 0.35, "pressure": 0.25, "mercury": 0.2, "downstream": 0.2}
    districts = gpd.GeoDataFrame(
        {"district": ["A"]}, geometry=[box(616000, 712500, 616600, 713000)], crs="EPSG:32630"
    )
    baseline = Scenario("baseline", "baseline", weights, [0.25, 0.5, 0.75], SPEC)
    results = {}
    for name, compute in (("here", None), ("there", dask_compute)):
        factors, f = _written(tmp_path, f"f_{name}", factor_producer(inputs, SPEC, 32, compute))
        score, s = _written(
            tmp_path, f"s_{name}", score_producer(factors, inputs.after, weights, 2, 32, compute)
        )
        _, c = _written(
            tmp_path,
            f"c_{name}",
            class_producer(score, [0.25, 0.5, 0.75], 255, 32, None, {}, compute),
        )
        counts = risk_counts(factors, inputs.after, districts, baseline, 2, 32, compute)
        results[name] = (f, s, c, counts)
    for a, b in zip(results["here"], results["there"], strict=True):
        np.testing.assert_array_equal(a, b)
    f, _, c, counts = results["here"]
    assert (f > 0).any(axis=(1, 2)).all()  # every factor is somewhere non-zero
    assert counts.sum() == (c != 255).sum() > 0


def test_incremental_sensitivity_equals_recomputing_every_factor(tmp_path, dask_compute) -> None:
    from cocoa_threat.analysis.risk import (
        classify,
        factor_producer,
        risk_score,
        sensitivity_counts,
    )

    inputs, (before, after, mercury, dem) = _rasters(tmp_path)
    weights = {"proximity": 0.35, "pressure": 0.25, "mercury": 0.2, "downstream": 0.2}
    breaks = [0.25, 0.5, 0.75]
    scenarios = sensitivity_scenarios(weights, breaks, SPEC, 0.2)
    factors, _ = _written(tmp_path, "factors", factor_producer(inputs, SPEC, 32))
    dem = np.where(dem == -9999.0, np.nan, dem)
    cocoa = after == 2
    expected = []
    for scenario in scenarios:  # every factor of every case, on the whole arrays
        f = risk_factors(before, after, mercury, dem, scenario.spec)
        picked = {k: v[cocoa] for k, v in f.items()}
        cls = classify(risk_score(picked, scenario.weights), scenario.breaks)
        expected.append(np.bincount(cls, minlength=4))
    expected = np.array(expected)
    here = sensitivity_counts(factors, inputs, scenarios, SPEC, 2, 32)
    there = sensitivity_counts(factors, inputs, scenarios, SPEC, 2, 32, dask_compute)
    np.testing.assert_array_equal(here, expected)
    np.testing.assert_array_equal(there, expected)
    assert here.dtype == np.int64
    distance_rows = [i for i, s in enumerate(scenarios) if s.group == "distance"]
    assert len(distance_rows) == 12
    assert (here[distance_rows] != here[0]).any(axis=1).sum() >= 6  # the cases move classes


def test_each_distance_case_moves_one_factor() -> None:
    from cocoa_threat.analysis.risk import moved_factors

    weights = {"proximity": 0.35, "pressure": 0.25, "mercury": 0.2, "downstream": 0.2}
    scenarios = sensitivity_scenarios(weights, [0.25, 0.5, 0.75], SPEC, 0.2)
    moved = {s.label: moved_factors(SPEC, s.spec) for s in scenarios}
    assert moved["baseline"] == [] and moved["weight proximity +20%"] == []
    assert moved["proximity max distance +20%"] == ["proximity"]
    assert moved["pressure saturation -20%"] == ["pressure"]
    assert moved["downstream half distance +20%"] == ["downstream"]
    other_pixel = SPEC.__class__(**{**SPEC.__dict__, "pixel_size": 20.0})
    assert moved_factors(SPEC, other_pixel) == list(FACTORS)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"pressure_radius_m": 120.0, "max_distance_m": 60.0},
        {"downstream_max_distance_m": 200.0, "max_distance_m": 40.0},
    ],
)
def test_windows_with_the_halo_equal_the_whole_array(changes) -> None:
    spec = SPEC.__class__(**{**SPEC.__dict__, **changes})
    before, after, mercury, dem = _arrays(seed=3)
    whole = risk_factors(before, after, mercury, dem, spec)
    halo, size = spec.halo, 24
    pad = lambda a, v: np.pad(a, halo, constant_values=v)  # noqa: E731
    big = [pad(before, 255), pad(after, 255), pad(mercury, np.nan), pad(dem, np.nan)]
    rows, cols = after.shape
    for r0 in range(0, rows, size):
        for c0 in range(0, cols, size):
            h, w = min(size, rows - r0), min(size, cols - c0)
            part = risk_factors(
                *(a[r0 : r0 + h + 2 * halo, c0 : c0 + w + 2 * halo] for a in big), spec
            )
            for name in FACTORS:
                np.testing.assert_array_equal(
                    part[name][halo : halo + h, halo : halo + w],
                    whole[name][r0 : r0 + h, c0 : c0 + w],
                    err_msg=f"{name} at window {r0}, {c0}",
                )
