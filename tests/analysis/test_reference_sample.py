"""The reference-sample kit: allocation, the draw, label checks and the estimator's coverage."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from rasterio.windows import Window
from scipy.stats import t as student_t

from cocoa_threat.analysis import reference_sample as kit
from cocoa_threat.geo.grid import GridSpec

CLASSES = ["background", "mining", "cocoa"]


def _grid(width: int, height: int) -> GridSpec:
    return GridSpec(
        crs="EPSG:32630",
        transform=(10.0, 0.0, 600000.0, 0.0, -10.0, 720000.0),
        width=width,
        height=height,
    )


def _reader(array: np.ndarray):
    def read(window: Window) -> np.ndarray:
        r, c = int(window.row_off), int(window.col_off)
        return array[r : r + int(window.height), c : c + int(window.width)]

    return read


# ---- sample size and allocation ---------------------------------------------------------
def test_sample_size_is_olofsson_eq_13() -> None:
    # Olofsson et al. 2014, section 5.1.1: W = (0.02, 0.015, 0.32, 0.645), U = (0.7, 0.6,
    # 0.9, 0.95), S(O) = 0.01 -> n = 641.
    n = kit.sample_size(np.array([0.02, 0.015, 0.32, 0.645]), np.array([0.7, 0.6, 0.9, 0.95]), 0.01)
    assert n == 641


def test_allocation_proportional_with_minimum_per_stratum() -> None:
    n_pixels = np.array([200_000, 150_000, 3_200_000, 6_450_000])
    alloc = kit.allocate(641, n_pixels, 75)
    assert alloc.sum() == 641
    assert (alloc[:2] == 75).all()  # the rare strata get the minimum
    # the rest is shared in proportion to the large strata's sizes
    assert abs(alloc[2] / alloc[3] - 3_200_000 / 6_450_000) < 0.01


def test_allocation_never_exceeds_a_stratum_and_minima_win() -> None:
    alloc = kit.allocate(10, np.array([1000, 30, 0, 5]), 8)
    assert alloc.tolist() == [8, 8, 0, 5]  # minima over n: sample larger than n
    assert kit.allocate(100, np.array([1000, 1000]), 2).tolist() == [50, 50]


def test_sample_size_for_a_target_class_counts_the_minima() -> None:
    n_pixels = np.array([800_000, 30_000, 150_000, 20_000])
    share = np.array([0.01, 0.8, 0.02, 0.6])  # mining mapped in strata 1 and 3
    n = kit.sample_size_for_class(n_pixels, share, 0.003, 20, 5000)
    w = n_pixels / n_pixels.sum()

    def se(k: int) -> float:
        return kit.class_share_se(w, share, kit.allocate(k, n_pixels, 20))

    assert se(n) <= 0.003 < se(n - 1)
    # The SE formula is the estimator's variance with proportional strata (no fpc).
    alloc = kit.allocate(n, n_pixels, 20)
    assert se(n) ** 2 == pytest.approx((w**2 * share * (1 - share) / alloc).sum())
    assert kit.sample_size_for_class(n_pixels, share, 1e-6, 20, 700) == 700


def test_planned_size_by_target() -> None:
    from cocoa_threat.params.reference_sample import ReferenceSampleParams

    strata = [kit.StratumDef(c, c) for c in CLASSES] + [kit.StratumDef("c -> m", "mining")]
    n_pixels, users = np.array([8000, 500, 3000, 200]), np.array([0.95, 0.8, 0.8, 0.6])
    overall = ReferenceSampleParams.model_validate({"target_se": 0.02})
    weights = n_pixels / n_pixels.sum()
    assert kit.planned_size(strata, n_pixels, users, overall) == kit.sample_size(
        weights, users, 0.02
    )
    mining = ReferenceSampleParams.model_validate({"target": "mining", "target_se": 0.005})
    assert kit.planned_size(strata, n_pixels, users, mining) > 0
    with pytest.raises(ValueError, match="reference_sample.target: 'forest'"):
        kit.planned_size(
            strata, n_pixels, users, ReferenceSampleParams.model_validate({"target": "forest"})
        )


# ---- the draw ---------------------------------------------------------------------------
def _strata_map(seed: int = 0, shape: tuple[int, int] = (300, 260)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    codes = rng.choice(3, size=shape, p=[0.85, 0.03, 0.12]).astype(np.int16)
    codes[:10, :] = kit.OUTSIDE
    return codes


def test_draw_in_strata_with_inclusion_probabilities() -> None:
    codes = _strata_map()
    grid = _grid(codes.shape[1], codes.shape[0])
    alloc = np.array([40, 25, 30])
    pixels = kit.draw_pixels(_reader(codes), grid, alloc, 64, np.random.default_rng(1))
    assert len(pixels) == alloc.sum()
    assert not pixels[["row", "col"]].duplicated().any()
    assert (codes[pixels["row"], pixels["col"]] == pixels["stratum"]).all()
    n_h = np.array([(codes == h).sum() for h in range(3)])
    expected = alloc[pixels["stratum"]] / n_h[pixels["stratum"]]
    assert np.allclose(pixels["inclusion_probability"], expected)
    assert (pixels.groupby("stratum").size().to_numpy() == alloc).all()
    again = kit.draw_pixels(_reader(codes), grid, alloc, 128, np.random.default_rng(1))
    assert len(again) == len(pixels)


def test_draw_is_uniform_within_a_stratum() -> None:
    # Every pixel of a stratum is drawn with probability n_h / N_h, whatever window it is in.
    codes = np.zeros((40, 40), dtype=np.int16)
    grid = _grid(40, 40)
    hits = np.zeros(codes.shape)
    rng = np.random.default_rng(3)
    for _ in range(400):
        p = kit.draw_pixels(_reader(codes), grid, np.array([16]), 16, rng)
        hits[p["row"], p["col"]] += 1
    freq = hits / 400
    assert abs(freq.mean() - 16 / 1600) < 1e-12
    quadrant = [freq[:20, :20].mean(), freq[20:, 20:].mean(), freq[:20, 20:].mean()]
    assert np.allclose(quadrant, 0.01, atol=0.0015)


def test_points_have_map_and_geographic_coordinates() -> None:
    grid = _grid(100, 100)
    pixels = pd.DataFrame(
        {
            "stratum": [0, 1],
            "row": [0, 99],
            "col": [0, 99],
            "n_stratum": [5, 5],
            "inclusion_probability": [0.2, 0.2],
        }
    )
    strata = [kit.StratumDef("background", "background"), kit.StratumDef("mining", "mining")]
    pts = kit.point_table(pixels, grid, strata)
    assert pts.loc[0, ["x", "y"]].tolist() == [600005.0, 719995.0]
    assert pts.loc[1, ["x", "y"]].tolist() == [600995.0, 719005.0]
    assert 5.5 < pts.loc[0, "lat"] < 7.0 and -2.5 < pts.loc[0, "lon"] < -1.0
    assert pts["id"].tolist() == [1, 2] and (pts["reference_class"] == "").all()


def test_map_strata_put_the_conversion_in_its_own_stratum() -> None:
    year = np.array([[0, 1, 2, 255]], dtype=np.uint8)
    change = np.array([[0, 21, 22, 255]], dtype=np.uint8)
    strata, strata_of = kit.map_strata(
        CLASSES, 255, _reader(year), ("cocoa", "mining", "mining", _reader(change))
    )
    assert [s.name for s in strata] == [*CLASSES, "cocoa -> mining"]
    assert strata_of(Window(0, 0, 4, 1)).tolist() == [[0, 3, 2, kit.OUTSIDE]]


# ---- labels read back --------------------------------------------------------------------
def _sample(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "stratum": "mining",
            "map_class": "mining",
            "reference_class": "",
        }
    )


def test_validation_lists_every_offending_id() -> None:
    labels = pd.DataFrame(
        {
            "id": [1, 2, 2, 3, 4, 99],
            "reference_class": ["mining", "cocoa", "cocoa", "", "forest", "mining"],
        }
    )
    with pytest.raises(kit.LabelError) as err:
        kit.validate_labels(labels, _sample(), CLASSES, "labels.csv")
    text = str(err.value)
    assert "labels.csv" in text
    assert "more than once: 2" in text
    assert "not in the drawn sample: 99" in text
    assert "4 ('forest')" in text
    assert "without a reference_class: 3" in text
    assert "missing from the file: 5" in text


def test_each_check_returns_its_offending_ids() -> None:
    sample = _sample(4).assign(x=[0.0, 10.0, 20.0, 30.0], y=0.0)
    table = pd.DataFrame(
        {"id": [1, 2, 2, 3, 9], "reference_class": ["mining", "", "", "forest", "cocoa"]}
    )
    assert kit.duplicated_ids(table).tolist() == [2]
    assert kit.ids_not_drawn(table, sample).tolist() == [9]
    assert kit.unknown_classes(table, CLASSES).tolist() == ["3 ('forest')"]
    assert kit.unknown_classes(table.iloc[:3], CLASSES).empty
    assert kit.unlabelled_ids(table).tolist() == [2, 2]
    assert kit.absent_ids(table, sample).tolist() == [4]
    xy = pd.DataFrame({"x": [0.0, 10.0, 12.0, 50.0, 0.0], "y": 0.0})
    assert kit.misplaced_ids(xy, table, sample, 5.0).tolist() == [3]  # 9 is not drawn


def test_validation_refuses_labels_of_another_draw() -> None:
    sample = _sample(3).assign(x=[0.0, 10.0, 20.0], y=[0.0, 0.0, 0.0])
    labels = sample[["id", "x", "y"]].assign(reference_class="mining")
    labels.loc[1, "x"] = 40.0
    with pytest.raises(kit.LabelError, match=r"this one\): 2\n"):
        kit.validate_labels(labels, sample, CLASSES, "f.csv", xy_tolerance=5.0)
    assert len(kit.validate_labels(labels.drop(columns="x"), sample, CLASSES, "f", False, 5.0))


def test_validation_needs_the_columns() -> None:
    with pytest.raises(kit.LabelError, match="reference_class"):
        kit.validate_labels(pd.DataFrame({"id": [1]}), _sample(), CLASSES, "f.csv")


def test_validation_passes_a_complete_file_and_demo_non_response() -> None:
    labels = pd.DataFrame({"id": [5, 4, 3, 2, 1], "reference_class": ["mining"] * 4 + ["cocoa"]})
    good = kit.validate_labels(labels, _sample(), CLASSES, "f.csv")
    assert len(good) == 5 and good.set_index("id").loc[1, "reference_class"] == "cocoa"
    part = kit.validate_labels(labels.iloc[:3], _sample(), CLASSES, "f", allow_missing=True)
    assert sorted(part["id"]) == [3, 4, 5]


# ---- the estimator: coverage and width against a known truth ------------------------------
def _synthetic(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A map with errors, its truth, and the change layer (400 x 400 px)."""
    rng = np.random.default_rng(seed)
    shape = (400, 400)
    truth = rng.choice(3, size=shape, p=[0.80, 0.07, 0.13]).astype(np.uint8)
    mapped = truth.copy()
    flip = rng.random(shape)
    mapped[(truth == 1) & (flip < 0.25)] = 0  # mining missed (omission)
    mapped[(truth == 0) & (flip < 0.02)] = 1  # background mapped as mining (commission)
    mapped[(truth == 2) & (flip < 0.10)] = 0
    mapped[(truth == 0) & (flip > 0.97)] = 2
    change = np.where((mapped == 1) & (rng.random(shape) < 0.3), 21, 0).astype(np.uint8)
    return mapped, truth, change


def test_intervals_cover_the_truth_at_the_nominal_rate_with_the_design_width() -> None:
    mapped, truth, change = _synthetic()
    grid = _grid(*mapped.shape[::-1])
    strata, strata_of = kit.map_strata(
        CLASSES, 255, _reader(mapped), ("cocoa", "mining", "mining", _reader(change))
    )
    windows, counts = kit.count_strata(strata_of, grid, len(strata), 128)
    n_pixels = counts.sum(axis=0)
    alloc = kit.allocate(300, n_pixels, 30)
    design = kit.design_table(strata, n_pixels, alloc, np.full(4, 0.8), grid.hectares(1))
    codes = strata_of(Window(0, 0, grid.width, grid.height))
    confidence, reps = 0.95, 200
    rng = np.random.default_rng(11)
    results = {c: [] for c in CLASSES}
    for _ in range(reps):
        pixels = kit.draw_pixels(strata_of, grid, alloc, 128, rng, (windows, counts))
        pts = kit.point_table(pixels, grid, strata)
        pts["reference_class"] = [CLASSES[v] for v in truth[pts["row"], pts["col"]]]
        table = kit.class_areas(pts, design, CLASSES, confidence).set_index("class")
        for c in CLASSES:
            results[c].append(
                table.loc[c, ["adjusted_ha", "se_ha", "ci_low_ha", "ci_high_ha", "df"]].to_numpy(
                    float
                )
            )
    report = {}
    for j, c in enumerate(CLASSES):
        est = np.array(results[c])
        true_ha = grid.hectares(float((truth == j).sum()))
        per_stratum = pd.DataFrame(
            {
                "stratum": [s.name for s in strata],
                "n_class": [int(((codes == h) & (truth == j)).sum()) for h in range(len(strata))],
            }
        )
        se_design = kit.design_se(per_stratum, design, c)
        covered = (est[:, 2] <= true_ha) & (true_ha <= est[:, 3])
        half_width = (est[:, 3] - est[:, 2]) / 2
        expected_half = student_t.ppf(0.5 + confidence / 2, np.median(est[:, 4])) * se_design
        report[c] = (
            covered.mean(),
            half_width.mean() / expected_half,
            est[:, 1].mean() / se_design,
            abs(est[:, 0].mean() - true_ha) / se_design,
        )
        # unbiased: the mean of 200 estimates is within 3 of their standard errors of the truth
        assert abs(est[:, 0].mean() - true_ha) < 3 * se_design / np.sqrt(reps) + 1e-9
        # coverage near nominal (binomial sd with 200 draws is 1.5 points)
        assert 0.90 <= covered.mean() <= 0.99, report
        # the intervals are as wide as the design says, not wider nor narrower
        assert 0.85 <= half_width.mean() / expected_half <= 1.15, report
    logging.getLogger(__name__).info(
        "coverage, width / design width, mean SE / design SE, |bias| / design SE: %s", report
    )


def test_map_areas_say_they_are_not_adjusted() -> None:
    design = pd.DataFrame(
        {
            "stratum": CLASSES,
            "map_class": CLASSES,
            "n_pixels": [10, 5, 5],
            "area_ha": [0.1, 0.05, 0.05],
            "pixel_ha": 0.01,
        }
    )
    table = kit.map_areas(design, CLASSES, 0.95)
    assert (table["source"] == kit.MAP_AREA_SOURCE).all()
    assert table["adjusted_ha"].isna().all() and table["map_ha"].tolist() == [0.1, 0.05, 0.05]


def test_chip_shows_both_years_with_the_point_outlined() -> None:
    image = np.random.default_rng(0).random((3, 50, 50)).astype(np.float32)

    def read(window: Window) -> np.ndarray:
        out = np.full((3, int(window.height), int(window.width)), -9999.0, dtype=np.float32)
        r, c = int(window.row_off), int(window.col_off)
        r0, c0 = max(r, 0), max(c, 0)
        part = image[:, r0 : r + int(window.height), c0 : c + int(window.width)]
        out[:, r0 - r : r0 - r + part.shape[1], c0 - c : c0 - c + part.shape[2]] = part
        return out

    cached = kit.block_cached(read, 16, 16)
    for r, c in [(0, 0), (20, 33), (49, 49), (17, 2)]:
        window = Window(c - 8, r - 8, 16, 16)
        assert np.array_equal(cached(window), read(window))
    rgb = kit.chip([(read, -9999.0), (cached, -9999.0)], 2, 2, 16, 2, (2, 98))
    assert rgb.shape == (32, 2 * 32 + 2, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[15, 16]) == (255, 0, 255)
