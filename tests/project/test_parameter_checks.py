"""Parameters are checked before anything runs: every block, their agreement, unknown keys."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from kedro.pipeline import Node, Pipeline

from cocoa_threat.errors import ParameterError
from cocoa_threat.hooks import ParameterCheckHook
from cocoa_threat.params.checks import check_parameters, parse_blocks, top_level_keys
from tests.conftest import load_project_conf
from tests.project.cli import kedro, project_copy


@pytest.fixture(scope="module")
def params(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return load_project_conf(tmp_path_factory.mktemp("conf")).params


def _with(params: dict, path: str, value: object) -> dict:
    out = copy.deepcopy(params)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


def test_the_project_conf_is_valid(params: dict) -> None:
    assert check_parameters(params) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("risk.weights.mercury", -1.0, "risk.weights must be >= 0"),
        ("risk.class_breaks", [0.5, 0.25, 0.75], "risk"),
        ("economics.yield_kg_per_ha.low", 900, "yield_kg_per_ha"),
        ("mercury.survey.crs", 12, "mercury.survey.crs"),
        ("inference.model", "resnet51", "inference.model: 'resnet51' is not 'best' nor one of"),
        ("transition.from_class", "cacao", "transition.from_class: 'cacao' is not one of"),
        ("after.year", 2023, "after.year: 2023 is not one of ingestion.years"),
        ("resnet50.model.class_weights", [1.0, 2.0], "resnet50.model.class_weights: 2 weights"),
        ("reporting.sample_patches", -3, "reporting.sample_patches"),
    ],
)
def test_a_bad_value_is_named(params: dict, path: str, value: object, message: str) -> None:
    problems = check_parameters(_with(params, path, value))
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(
    "path",
    [
        "risk.weights.mercury",
        "economics.real_discount_rate",
        "economics.yield_kg_per_ha.high",
        "economics.cpi_inflation_pct.2020",
        "mercury.detection_limit_ng_m3",
        "prithvi.model.model_args.head_dropout",  # a free-form block
    ],
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused_naming_the_key(params: dict, path: str, value: float) -> None:
    problems = check_parameters(_with(params, path, value))
    block, _, rest = path.partition(".")
    assert any(p.startswith(block) and rest.split(".")[-1] in p for p in problems), problems
    assert any("not a finite number" in p for p in problems), problems


def test_unknown_keys_suggest_the_right_one(params: dict) -> None:
    bad = copy.deepcopy(params)
    bad["risks"] = bad.pop("risk")
    problems = check_parameters(bad)
    assert "risks: unknown top-level parameter; did you mean 'risk'?" in problems
    nested = _with(params, "risk.weight", {"proximity": 1.0})
    assert any("risk" in p and "weight" in p for p in check_parameters(nested))


def test_model_blocks_left_out_of_the_run_are_known(params: dict) -> None:
    # A user who trains the forest only keeps base's prithvi and resnet50 blocks.
    forest_only = _with(params, "training.models", ["random_forest"])
    assert check_parameters(forest_only) == []
    assert set(parse_blocks(forest_only)) == set(params) - {"prithvi", "resnet50"}
    # A block with other keys than 'model' is still unknown.
    forest_only["prithvy"] = {"model": {}, "extra": 1}
    assert any(p.startswith("prithvy: unknown") for p in check_parameters(forest_only))


def test_only_the_blocks_a_run_uses_are_checked(params: dict) -> None:
    bad = _with(params, "risk.weights.mercury", -1.0)
    assert check_parameters(bad, {"ingestion", "training"}) == []
    assert check_parameters(bad, {"risk"})
    assert top_level_keys(["params:risk.weights", "tile_manifest", "parameters"]) == {"risk"}


def test_a_two_class_study_refuses_the_cocoa_pipelines_at_once(params: dict) -> None:
    two = _with(params, "ingestion.labels.cocoa.source", "none")
    two["land_use"] = {**two["land_use"], "classes": ["background", "mining"]}
    two["land_use"]["colours"] = {
        k: v for k, v in two["land_use"]["colours"].items() if k != "cocoa"
    }
    two["land_use"]["cocoa_class"] = None
    problems = check_parameters(two, {"ingestion", "risk", "economics"})
    assert any(p.startswith("risk: the risk pipeline needs a cocoa class") for p in problems)
    assert any(p.startswith("economics:") for p in problems)


def test_the_hook_raises_before_any_node(params: dict) -> None:
    from kedro.io import DataCatalog, MemoryDataset

    ran = []
    pipeline = Pipeline([Node(ran.append, "params:risk", None, name="uses_risk")])
    catalog = DataCatalog({"parameters": MemoryDataset(_with(params, "risk.weights.mercury", -1))})
    with pytest.raises(ParameterError, match=r"(?s)nothing has run.*risk.weights must be >= 0"):
        ParameterCheckHook().before_pipeline_run({}, pipeline, catalog)
    assert ran == []


def test_a_bad_parameter_of_the_last_pipeline_fails_a_full_run_before_ingestion(
    tmp_path: Path,
) -> None:
    root = project_copy(tmp_path)
    result = kedro(root, "run", "--params", "risk.weights.mercury=-1.0")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # Kedro builds the typed blocks before the first node: the message names the key.
    assert "Invalid parameters under 'risk'" in output and "risk.weights must be >= 0" in output
    # Not a single node ran: the demo generator did not even write the raw data.
    assert not (root / "data").exists() or not any((root / "data").rglob("*.tif"))
