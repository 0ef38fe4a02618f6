"""Shared fixtures of the pipeline tests: the tiny region at each stage of the chain.

Each stage (ingested, forest trained, mapped, transitions) is built once per
test session and each test gets its own copy of it in ``tmp_path`` (a copy of a
few hundred kB), so tests may change files and parameters without affecting
each other, and ingestion and training are not re-run for every test.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from kedro.runner import SequentialRunner

from tests.conftest import ProjectConf, from_raw, tiny_project_conf

TEXT_SUFFIXES = {".csv", ".json", ".vrt", ".yml", ".txt"}


def shrink_models(params: dict) -> None:
    """Make every model of the project's conf train in seconds on a CPU."""
    for name in ("prithvi", "resnet50"):
        model = params[name]["model"]
        model["data"]["batch_size"] = 8
        model["trainer"].update(
            {"max_epochs": 1, "enable_progress_bar": False, "log_every_n_steps": 1}
        )
    params["prithvi"]["model"]["model_args"]["decoder_channels"] = 16
    params["random_forest"]["model"].update({"n_estimators": 10, "pixels_per_class": 500})
    params["training"]["seeds"] = [42]
    params["training"]["test_intervals"]["min_blocks"] = 2


def _moved(obj: Any, old: str, new: str) -> Any:
    if isinstance(obj, dict):
        return {k: _moved(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_moved(v, old, new) for v in obj]
    return obj.replace(old, new) if isinstance(obj, str) else obj


def clone(conf: ProjectConf, root: Path) -> ProjectConf:
    """A copy of a stage's data and conf under ``root`` (absolute paths in files re-pointed)."""
    old, new = str(conf.root), str(root)
    if (conf.root / "data").exists():
        shutil.copytree(conf.root / "data", root / "data", dirs_exist_ok=True)
    for path in (root / "data").rglob("*"):
        if path.suffix in TEXT_SUFFIXES and path.is_file():
            text = path.read_text()
            if old in text:
                path.write_text(text.replace(old, new))
    return ProjectConf(
        root=root,
        params=_moved(copy.deepcopy(conf.params), old, new),
        catalog=_moved(copy.deepcopy(conf.catalog), old, new),
    )


# ---- stages, built once per session -------------------------------------------------
@pytest.fixture(scope="session")
def ingested_stage(tmp_path_factory: pytest.TempPathFactory) -> ProjectConf:
    conf = tiny_project_conf(tmp_path_factory.mktemp("ingested"))
    shrink_models(conf.params)
    SequentialRunner().run(from_raw(), conf.catalog_with_params())
    return conf


@pytest.fixture(scope="session")
def forest_stage(
    ingested_stage: ProjectConf, tmp_path_factory: pytest.TempPathFactory
) -> ProjectConf:
    from cocoa_threat.pipelines.training import create_pipeline as training_pipeline
    from cocoa_threat.pipelines.training.nodes import compare_models

    conf = clone(ingested_stage, tmp_path_factory.mktemp("trained_forest"))
    forest = training_pipeline().only_nodes_with_namespaces(["random_forest"])
    catalog = conf.catalog_with_params()
    SequentialRunner().run(forest, catalog)
    comparison = compare_models(conf.typed("training"), catalog.load("random_forest.metrics"))
    catalog.save("model_comparison", comparison)
    return conf


@pytest.fixture(scope="session")
def mapped_stage(
    forest_stage: ProjectConf, tmp_path_factory: pytest.TempPathFactory
) -> ProjectConf:
    from cocoa_threat.pipelines.inference import create_pipeline as inference_pipeline

    conf = clone(forest_stage, tmp_path_factory.mktemp("mapped"))
    SequentialRunner().run(inference_pipeline(), conf.catalog_with_params())
    return conf


@pytest.fixture(scope="session")
def transitioned_stage(
    mapped_stage: ProjectConf, tmp_path_factory: pytest.TempPathFactory
) -> ProjectConf:
    from cocoa_threat.pipelines.transition import create_pipeline as transition_pipeline

    conf = clone(mapped_stage, tmp_path_factory.mktemp("transitioned"))
    SequentialRunner().run(transition_pipeline(), conf.catalog_with_params())
    return conf


# ---- what tests use: their own copy of a stage ----------------------------------------
@pytest.fixture
def ingested(ingested_stage: ProjectConf, tmp_path: Path) -> ProjectConf:
    """The tiny demo region run through ingestion, models shrunk."""
    return clone(ingested_stage, tmp_path)


@pytest.fixture
def trained_forest(forest_stage: ProjectConf, tmp_path: Path) -> ProjectConf:
    """The tiny region ingested and the random forest trained (the fastest model)."""
    return clone(forest_stage, tmp_path)


@pytest.fixture
def mapped(mapped_stage: ProjectConf, tmp_path: Path) -> ProjectConf:
    """... and both years mapped by the inference pipeline."""
    return clone(mapped_stage, tmp_path)


@pytest.fixture
def transitioned(transitioned_stage: ProjectConf, tmp_path: Path) -> ProjectConf:
    """... and the transition pipeline run (districts, area estimates)."""
    return clone(transitioned_stage, tmp_path)
