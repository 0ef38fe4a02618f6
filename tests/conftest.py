"""Shared fixtures: the project's own conf, re-targeted at tmp_path, on tiny regions."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from rasterio.crs import CRS

from cocoa_threat.geo.raster import Raster, write_raster
from cocoa_threat.settings import CONFIG_LOADER_ARGS

REPO = Path(__file__).resolve().parents[1]

# A tiny demo region: 4 x 4 tiles of 32 px, the last column/row trimmed.
TINY_REGION = {
    "n_tiles_x": 4,
    "n_tiles_y": 4,
    "tile_size": 32,
    "edge_trim_x": 10,
    "edge_trim_y": 13,
}


def _retarget(obj: Any, root: Path) -> Any:
    """Point every ``data/...`` path of a conf tree into ``root``."""
    if isinstance(obj, dict):
        return {k: _retarget(v, root) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_retarget(v, root) for v in obj]
    if isinstance(obj, str) and obj.startswith("data/"):
        return (root / obj).as_posix()
    return obj


@dataclass
class ProjectConf:
    """The project's parameters and catalog config with paths under tmp_path."""

    root: Path
    params: dict[str, Any]
    catalog: dict[str, Any]

    def catalog_with_params(self) -> DataCatalog:
        """A DataCatalog of the project's datasets plus ``params:<key>`` entries.

        The parameters are typed as Kedro types them for a run: every block a
        node of the project's pipelines declares (``risk: RiskParams``) is that
        object; nested keys of plain dicts get their own entries.
        """
        catalog = DataCatalog.from_config(copy.deepcopy(self.catalog))

        def add(prefix: str, value: Any) -> None:  # as Kedro does: every nested key too
            catalog[f"params:{prefix}"] = MemoryDataset(value, copy_mode="assign")
            if isinstance(value, dict):
                for key, sub in value.items():
                    add(f"{prefix}.{key}", sub)

        typed = self.typed_params()
        for key, value in typed.items():
            add(key, value)
        catalog["parameters"] = MemoryDataset(typed, copy_mode="assign")
        return catalog

    def typed_params(self) -> dict[str, Any]:
        """The parameters as a run's nodes receive them (Kedro's validation of node hints)."""
        return typed(self.params)

    def typed(self, key: str) -> Any:
        """One block as nodes receive it, e.g. ``conf.typed("risk")`` (a RiskParams)."""
        value = self.typed_params()
        for part in key.split("."):
            value = value[part]
        return value

    def raw_path(self, name: str) -> Path:
        """Where a raw catalog entry (``raw_tiles``, ``cocoa_layer_raw`` ...) points."""
        return Path(self.catalog[name]["filepath"])

    def point_raw(self, name: str, path: Path) -> None:
        """Point a raw catalog entry (and its stamp's) at another file or folder, as
        ``raw.*`` in globals.yml does for both."""
        self.catalog[name]["filepath"] = str(path)
        if f"{name}_stamp" in self.catalog:
            self.catalog[f"{name}_stamp"]["filepath"] = str(path)


def typed(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every block that a node of the project's pipelines types, typed."""
    from kedro.validation.parameter_validator import ParameterValidator

    from cocoa_threat.pipeline_registry import register_pipelines

    return ParameterValidator(register_pipelines()).validate_raw_params(copy.deepcopy(params))


def from_raw() -> Any:
    """The demo pipeline and the ingestion: what ``kedro run --pipeline=ingestion`` runs
    on the demo (``ingestion.source: synthetic``)."""
    from cocoa_threat.pipelines import demo, ingestion

    return demo.create_pipeline() + ingestion.create_pipeline()


def write_demo(conf: ProjectConf) -> DataCatalog:
    """Write the conf's demo region into its raw paths (the demo pipeline); return the catalog."""
    from cocoa_threat.pipelines import demo

    return run_nodes(conf, demo.create_pipeline())


def run_nodes(conf: ProjectConf, pipeline: Any, *names: str) -> DataCatalog:
    """Run some nodes (all if none named) of a pipeline on the conf's catalog; return it."""
    from kedro.runner import SequentialRunner

    catalog = conf.catalog_with_params()
    SequentialRunner().run(pipeline.only_nodes(*names) if names else pipeline, catalog)
    return catalog


def load_project_conf(root: Path, env: str | None = None) -> ProjectConf:
    """Load conf/ (base + env) the way Kedro does and re-target the paths."""
    loader = OmegaConfigLoader(
        conf_source=str(REPO / "conf"),
        base_env="base",
        default_run_env=env or "base",
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    params = _retarget(dict(loader["parameters"]), root)
    catalog = _retarget(dict(loader["catalog"]), root)
    return ProjectConf(root=root, params=params, catalog=catalog)


def tiny_project_conf(root: Path) -> ProjectConf:
    """Project conf on a tiny demo region under ``root``."""
    conf = load_project_conf(root)
    ing = conf.params["ingestion"]
    conf.params["demo"].update(TINY_REGION)
    ing["raster"]["tile_size"] = TINY_REGION["tile_size"]
    ing["split"]["block_size"] = 1
    # 16 blocks in 2 strata of 8: 2 test blocks per stratum (the design's least), 1 val.
    ing["split"]["fractions"] = {"train": 0.625, "val": 0.125, "test": 0.25}
    conf.params["transition"]["min_test_units"] = 2
    # The tiny region is ~1.2 km across: spatial blocks of the mercury CV to match.
    conf.params["mercury"]["interpolation"]["cv_block_size_m"] = 400.0
    return conf


@pytest.fixture
def project_conf(tmp_path: Path) -> ProjectConf:
    """Project conf on a tiny demo region under tmp_path."""
    return tiny_project_conf(tmp_path)


def write_tile(
    path: Path,
    data: np.ndarray,
    origin: tuple[float, float] = (616000.0, 713000.0),
    crs: str = "EPSG:32630",
    nodata: float | None = -9999.0,
    pixel: float = 10.0,
) -> Path:
    """Write a small GeoTIFF for a test."""
    transform = Affine(pixel, 0, origin[0], 0, -pixel, origin[1])
    write_raster(path, Raster(data, transform, CRS.from_user_input(crs), nodata))
    return path


@pytest.fixture(scope="session")
def dask_compute() -> Any:
    """The ``compute`` parameters of a 2-worker LocalCluster (worker processes), shared.

    Stages get it as ``compute`` and run their windows on the cluster; the cluster
    lives for the whole session (starting one costs seconds).
    """
    from distributed import LocalCluster

    from cocoa_threat.geo.compute import close_clients
    from cocoa_threat.params.compute import ComputeParams

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield ComputeParams.model_validate(
            {
                "dask": {
                    "enabled": True,
                    "scheduler_address": cluster.scheduler_address,
                    "max_in_flight": 3,
                }
            }
        )
        close_clients()
