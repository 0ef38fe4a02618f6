"""A small dataset in the layout of the released SmallMinesDS, written where a test wants it.

The demo generator writes it (1-band mining masks, a cocoa-probability layer in
EPSG:4326, districts, a mercury survey), but into folders of the test's choice,
as a user's own copy of the real data would be: the project reads them only
through a conf environment that points its raw inputs there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cocoa_threat.demo import region
from cocoa_threat.geo.raster import read_raster, write_raster
from cocoa_threat.params.demo import DemoRegionConfig
from tests.conftest import REPO, load_project_conf

RAW_KEYS = {
    "tiles": "SmallMinesDS",
    "cocoa_layer": "cocoa_probability.tif",
    "districts": "districts.gpkg",
    "mercury_survey": "mercury_survey.csv",
}


def write_released(folder: Path, **overrides: Any) -> dict[str, Path]:
    """Write the four raw inputs under ``folder``; return their paths by ``raw.*`` key."""
    base = load_project_conf(folder).params["demo"]
    cfg = DemoRegionConfig.model_validate({**base, **overrides})
    land = region.build_land(cfg)
    paths = {key: folder / name for key, name in RAW_KEYS.items()}
    tiles, _ = region.tile_rasters(cfg, land)
    for key, raster in tiles.items():  # as users unpack it: plain files, no stamps
        write_raster(paths["tiles"] / f"{key}.tif", raster)
    write_raster(paths["cocoa_layer"], region.cocoa_layer_raster(cfg, land), compress="deflate")
    region.district_frame(cfg).to_file(paths["districts"], driver="GPKG", layer="districts")
    region.survey_frame(cfg, land).to_csv(paths["mercury_survey"], index=False)
    return paths


def merged(base: Any, over: Any) -> Any:
    """``over`` deep-merged into ``base`` (dicts key by key; anything else replaced)."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: merged(base.get(k), v) for k, v in over.items()}}
    return over


def add_environment(
    root: Path,
    name: str,
    raw: dict[str, Path],
    layered_on: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """``conf/<name>``: a copy of ``conf/<layered_on>`` whose raw paths point at ``raw``.

    ``overrides`` (top-level parameter keys) are merged into the copied file that
    holds the key (Kedro refuses a key defined twice in one environment).
    """
    env = root / "conf" / name
    env.mkdir(parents=True)
    globals_: dict[str, Any] = {}
    files: dict[str, dict[str, Any]] = {}
    if layered_on:
        for path in (REPO / "conf" / layered_on).glob("*.yml"):
            if path.name == "globals.yml":
                globals_ = yaml.safe_load(path.read_text())
            else:
                files[path.name] = yaml.safe_load(path.read_text())
    for key, value in (overrides or {}).items():
        holder = next((f for f, c in files.items() if f.startswith("param") and key in c), None)
        holder = holder or "parameters_test_overrides.yml"
        content = files.setdefault(holder, {})
        content[key] = merged(content.get(key), value)
    for file, content in files.items():
        (env / file).write_text(yaml.safe_dump(content, sort_keys=False))
    globals_.setdefault("raw", {}).update({k: str(v) for k, v in raw.items()})
    (env / "globals.yml").write_text(yaml.safe_dump(globals_))
    return env


def mining_of(mask_path: Path) -> np.ndarray:
    """The mining pixels (value 1) of a released 1-band mask."""
    return read_raster(mask_path).data[0] == 1
