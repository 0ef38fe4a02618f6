"""Every parameter block of a run together: unknown keys, missing blocks, agreement.

Kedro builds each block a run's nodes use from its schema (the node type hints),
so a bad value in one block fails before the first node. What no single schema
can see is checked here, by :func:`check_parameters`, which the Kedro hook
:class:`~cocoa_threat.hooks.ParameterCheckHook` calls before the first node:
top-level keys that are unknown (with a did-you-mean) or missing, and blocks
that disagree (classes, years, image dates, pixel sizes, models, the demo's
layout, the cocoa source). Every problem is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from cocoa_threat.errors import ParameterError
from cocoa_threat.params.base import parse_params
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.demo import DemoRegionConfig
from cocoa_threat.params.economics import EconomicsParams
from cocoa_threat.params.imagery import ImageryParams
from cocoa_threat.params.inference import InferenceParams
from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.params.land_use import LandUse
from cocoa_threat.params.mercury import MercuryParams
from cocoa_threat.params.reference_sample import ReferenceSampleParams
from cocoa_threat.params.reporting import ReportingParams
from cocoa_threat.params.risk import RiskParams
from cocoa_threat.params.series import SeriesParams
from cocoa_threat.params.study import IntervalParams, PeriodParams
from cocoa_threat.params.training import TrainingParams, parse_model_params
from cocoa_threat.params.transition import TransitionParams

# Every top-level block of conf and its schema (the model blocks are those of training.models).
BLOCKS: dict[str, type[BaseModel]] = {
    "land_use": LandUse,
    "demo": DemoRegionConfig,
    "ingestion": IngestionParams,
    "training": TrainingParams,
    "inference": InferenceParams,
    "before": PeriodParams,
    "after": PeriodParams,
    "intervals": IntervalParams,
    "transition": TransitionParams,
    "reference_sample": ReferenceSampleParams,
    "economics": EconomicsParams,
    "mercury": MercuryParams,
    "risk": RiskParams,
    "reporting": ReportingParams,
    "imagery": ImageryParams,
    "series": SeriesParams,
    "compute": ComputeParams,
}

# The pipelines that value or expose cocoa: they need a cocoa class.
NEEDS_COCOA = {
    "economics": "the economics pipeline",
    "mercury": "mercury exposure of cocoa",
    "risk": "the risk pipeline",
}


def top_level_keys(param_inputs: Iterable[str]) -> set[str]:
    """The top-level parameter keys behind node inputs such as ``params:risk.weights``."""
    out = set()
    for name in param_inputs:
        if name.startswith("params:"):
            out.add(name.removeprefix("params:").split(".")[0])
    return out


def _model_blocks(params: dict[str, Any]) -> set[str]:
    """Top-level blocks shaped as a model's (``{"model": ...}``), used in this run or not."""
    return {k for k, v in params.items() if isinstance(v, dict) and set(v) == {"model"}}


def _unknown_keys(params: dict[str, Any], models: list[str]) -> list[str]:
    # A model block left out of training.models is known, only not trained in this run.
    known = set(BLOCKS) | set(models) | _model_blocks(params)
    problems = []
    for key in sorted(set(params) - known):
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(f"{key}: unknown top-level parameter{hint}")
    return problems


def _land_use_checks(parsed: dict[str, Any], models: list[str]) -> list[str]:
    land_use: LandUse | None = parsed.get("land_use")
    if land_use is None:
        return []
    problems: list[str] = []
    if "ingestion" in parsed:
        try:
            parsed["ingestion"].check_land_use(land_use)
        except ValueError as exc:
            problems.append(str(exc))
        if parsed["ingestion"].raster.pixel_size != land_use.pixel_size:
            problems.append(
                f"ingestion.raster.pixel_size {parsed['ingestion'].raster.pixel_size:g} differs "
                f"from land_use.pixel_size {land_use.pixel_size:g}; they are one pixel size "
                f"(conf ties them with ${{land_use.pixel_size}})"
            )
    if "transition" in parsed:
        problems += parsed["transition"].check_land_use(land_use)
    if land_use.cocoa_class is None:
        problems += [
            f"{key}: {what} needs a cocoa class, but this is a two-class study "
            f"(ingestion.labels.cocoa.source: none, land_use.cocoa_class: null); give "
            f"ingestion.labels.cocoa a cocoa source, or leave this pipeline out"
            for key, what in NEEDS_COCOA.items()
            if key in parsed
        ]
    for name in models:
        weights = getattr(parsed.get(name), "class_weights", None)
        if weights is not None and len(weights) != land_use.n_classes:
            problems.append(
                f"{name}.model.class_weights: {len(weights)} weights for "
                f"{land_use.n_classes} classes in land_use.classes"
            )
    return problems


def _date_checks(parsed: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    ingestion: IngestionParams | None = parsed.get("ingestion")
    for key in ("before", "after"):
        if key not in parsed:
            continue
        year = parsed[key].year
        if ingestion is not None and year not in ingestion.years:
            problems.append(f"{key}.year: {year} is not one of ingestion.years {ingestion.years}")
        if "economics" in parsed and parsed["economics"].image_dates[key].year != year:
            date = parsed["economics"].image_dates[key]
            problems.append(
                f"economics.image_dates.{key}: {date} is not in {key}.year {year}; the image "
                f"date the economics counts from is that of the {key} map"
            )
    return problems


def _demo_checks(parsed: dict[str, Any]) -> list[str]:
    ingestion: IngestionParams | None = parsed.get("ingestion")
    demo: DemoRegionConfig | None = parsed.get("demo")
    if ingestion is None or demo is None or ingestion.source != "synthetic":
        return []
    problems = []
    missing = [y for y in ingestion.years if y not in demo.years]
    if missing:
        problems.append(f"ingestion.years {missing} are not in demo.years {demo.years}")
    if demo.mask_layout != ingestion.labels.mask_format:
        problems.append(
            f"ingestion.labels.mask_format is {ingestion.labels.mask_format} but the demo "
            f"writes {demo.mask_layout} masks (demo.mask_layout); set both alike"
        )
    if demo.pixel_size != ingestion.raster.pixel_size:
        problems.append(
            f"demo.pixel_size {demo.pixel_size:g} differs from ingestion.raster.pixel_size "
            f"{ingestion.raster.pixel_size:g}"
        )
    return problems


def _cross_checks(parsed: dict[str, Any], models: list[str]) -> list[str]:
    problems = _land_use_checks(parsed, models) + _date_checks(parsed) + _demo_checks(parsed)
    if "series" in parsed and "imagery" in parsed:
        missing = [y for y in parsed["series"].years if y not in parsed["imagery"].years]
        if missing:
            problems.append(
                f"series.years {missing} are not in imagery.years {parsed['imagery'].years}: "
                f"each year of the series is mapped from its composite; add them there"
            )
    if "inference" in parsed:
        wanted = parsed["inference"].model
        if wanted != "best" and wanted not in models:
            problems.append(
                f"inference.model: {wanted!r} is not 'best' nor one of training.models {models}"
            )
    return problems


def _parse(key: str, value: Any, models: list[str]) -> tuple[Any, list[str]]:
    """The typed block, or the problems with it (one line per key)."""
    if key in models and not (isinstance(value, dict) and set(value) == {"model"}):
        return None, [f"{key}: a model block holds exactly one key, 'model'"]
    try:
        if key in models:
            return parse_model_params(value["model"], f"{key}.model"), []
        return parse_params(BLOCKS[key], value, key), []
    except ParameterError as exc:
        return None, [line.strip().removeprefix("- ") for line in str(exc).splitlines()[1:]]


def check_parameters(params: dict[str, Any], needed: set[str] | None = None) -> list[str]:
    """Every problem with the parameters a run uses (empty when all is well).

    Args:
        params: All parameters, as Kedro loaded them (blocks already typed or not).
        needed: The top-level keys the run's nodes use (None: every block present).

    Returns:
        One line per problem, each naming the key to fix.
    """
    try:
        models = list(parse_params(TrainingParams, params.get("training", {}), "training").models)
    except ParameterError:
        models = sorted(_model_blocks(params))
    wanted = set(params) if needed is None else set(needed) | {"land_use"}
    problems = _unknown_keys(params, models)
    parsed: dict[str, Any] = {}
    for key in sorted(wanted):
        if key not in params:
            if key in BLOCKS or key in models:
                problems.append(f"{key}: missing; add its block to conf/base/parameters_*.yml")
            continue
        if key not in BLOCKS and key not in models:
            continue
        block, found = _parse(key, params[key], models)
        if found:
            problems += found
        else:
            parsed[key] = block
    return problems + _cross_checks(parsed, models)


def parse_blocks(params: dict[str, Any]) -> dict[str, Any]:
    """Every block of ``params`` typed as nodes receive it (for scripts and notebooks).

    In a run Kedro builds the blocks from the node type hints; a script that calls
    nodes or the library directly gets the same objects here. Model blocks become
    ``{"model": ModelSpec}``.

    Raises:
        ParameterError: Naming every bad key.
    """
    from cocoa_threat.params.training import ModelSpec

    require_valid_parameters(params)
    models = parse_params(TrainingParams, params.get("training", {}), "training").models
    out: dict[str, Any] = {}
    unused = _model_blocks(params) - set(models)
    for key, value in params.items():
        if key in models:
            out[key] = {"model": ModelSpec.model_validate(value["model"])}
        elif key not in unused:
            out[key] = parse_params(BLOCKS[key], value, key)
    return out


def require_valid_parameters(params: dict[str, Any], needed: set[str] | None = None) -> None:
    """Raise one :class:`ParameterError` listing every problem, if any."""
    problems = check_parameters(params, needed)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ParameterError(f"Invalid parameters (fix them in conf/; nothing has run):\n{listed}")
