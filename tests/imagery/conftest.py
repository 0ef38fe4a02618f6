"""A local static STAC catalog of synthetic scenes of January 2022 (and a DEM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer

from cocoa_threat.params.imagery import ImageryParams
from tests.imagery.synthetic_stac import (
    AREA,
    ASSETS,
    CRS,
    TEN_M,
    Scene,
    make_scene,
    write_catalog,
)

BANDS = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
ALIASES = {
    "BLUE": "B2",
    "GREEN": "B3",
    "RED": "B4",
    "NIR_NARROW": "B8A",
    "SWIR_1": "B11",
    "SWIR_2": "B12",
}
ASSET_KEYS = dict(zip(["B2", "B3", "B4", "B8A", "B11", "B12"], ASSETS, strict=True))
OTHER_UTM = "EPSG:32629"


def params(catalog: Path, cache_dir: Path, **overrides: Any) -> ImageryParams:
    """Imagery parameters for a synthetic catalog over the test area."""
    base: dict[str, Any] = {
        "catalog_url": str(catalog),
        "years": [2022],
        "area": {"source": "bbox", "bbox": list(AREA), "bbox_crs": CRS},
        "assets": ASSET_KEYS,
        "cache": {"dir": str(cache_dir)},
        "output": {"window_size": 32, "threads": 1},
        "search": {"retries": 0, "backoff_s": 0.0},
        "progress": False,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return ImageryParams.model_validate(base)


def _cloudy_corner(scene: Scene) -> None:
    """No clear observation in the area's top-left 8 x 8 px (scenes aligned with it)."""
    scene.scl[2:6, 2:6] = 9


def other_zone_scene(when: datetime) -> tuple[Scene, float]:
    """A clear scene in UTM 29N over the whole area, cloudy west of a line; and that line."""
    to_29 = Transformer.from_crs(CRS, OTHER_UTM, always_xy=True)
    xs, ys = to_29.transform(
        [AREA[0], AREA[2], AREA[0], AREA[2]], [AREA[1], AREA[1], AREA[3], AREA[3]]
    )
    x0, y1 = np.floor(min(xs) / 20) * 20 - 200, np.ceil(max(ys) / 20) * 20 + 200
    cols, rows = int((max(xs) - x0 + 200) // 20) + 1, int((y1 - min(ys) + 200) // 20) + 1
    values = {"blue": 777, "green": 888, "red": 999, "nir08": 3333, "swir16": 2222, "swir22": 1111}
    true = {}
    for name, value in values.items():
        k = 2 if name in TEN_M else 1
        true[name] = np.full((rows * k, cols * k), float(value))
    scl = np.full((rows, cols), 4, dtype=np.uint8)
    edge_col = int((np.mean(xs) - x0) // 20)  # cloud west of the area's middle (in UTM 29N)
    scl[:, :edge_col] = 9
    scene = Scene(
        "S2B_29NQH_20220115",
        when,
        OTHER_UTM,
        (x0, y1),
        (rows, cols),
        true,
        scl,
        properties={"s2:processing_baseline": "03.01"},
    )
    return scene, x0 + edge_col * 20


@dataclass
class SyntheticYear:
    """The scenes of the catalog, those the composite must use, and the catalog file."""

    catalog: Path
    used: list[Scene]
    other_zone_edge: float


def build_year(root: Path, seed: int = 7) -> SyntheticYear:
    """Scenes of January 2022 with every complication, written as a static catalog."""
    rng = np.random.default_rng(seed)
    old = {"s2:processing_baseline": "03.01"}
    a = make_scene(rng, "S2A_30NWN_20220105", datetime(2022, 1, 5, 10, 30), properties=old)
    # Same pass, the neighbouring tile: its overlap must count once (first clear wins).
    e = make_scene(
        rng,
        "S2A_30NXN_20220105",
        datetime(2022, 1, 5, 10, 30, 5),
        origin=(616280.0, 713040.0),
        shape20=(36, 20),
        properties=old,
    )
    # Baseline 03.01 recorded only as the processing baseline (no raster:bands offset).
    b = make_scene(
        rng, "S2B_30NWN_20220110", datetime(2022, 1, 10, 10, 30), properties=old, raster_offset=None
    )
    blank = np.zeros((72, 72), bool)
    blank[40:44, 10:20] = True
    sat = np.zeros((36, 36), bool)
    sat[20:24, 5:9] = True
    b.special = {"blue": (blank, 0), "swir22": (sat, 65535)}
    # Baseline 04.00: digital numbers carry +1000, recorded twice (must be removed once).
    c = make_scene(
        rng,
        "S2A_30NWN_20220127",
        datetime(2022, 1, 27, 10, 30),
        dn_offset=1000,
        raster_offset=-0.1,
        properties={"s2:processing_baseline": "04.00"},
    )
    # Baseline 04.00 already corrected by the catalog, which still records offset -0.1.
    f = make_scene(
        rng,
        "S2B_30NWN_20220130",
        datetime(2022, 1, 30, 10, 30),
        raster_offset=-0.1,
        properties={"s2:processing_baseline": "04.00", "earthsearch:boa_offset_applied": True},
    )
    d, edge = other_zone_scene(datetime(2022, 1, 15, 10, 30))
    late = make_scene(rng, "S2A_30NWN_20220203", datetime(2022, 2, 3, 10, 30), properties=old)
    cloudy = make_scene(
        rng, "S2B_30NWN_20220120", datetime(2022, 1, 20, 10, 30), properties=old, cloud_cover=95.0
    )
    for scene in (a, b, c, f, late, cloudy):
        _cloudy_corner(scene)
    catalog = write_catalog(root, [a, e, b, c, f, d, late, cloudy])
    return SyntheticYear(catalog, [a, e, b, c, f, d], edge)


@pytest.fixture(scope="session")
def synthetic_year(tmp_path_factory: pytest.TempPathFactory) -> SyntheticYear:
    """The January 2022 catalog, written once per session (tests must not change it)."""
    return build_year(tmp_path_factory.mktemp("stac"))
