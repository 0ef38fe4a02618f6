"""Every parameter block of a run, checked before its first node runs.

:func:`check_parameters` validates the blocks the pipelines about to run use
(each with its pydantic schema, all derived from
:class:`~cocoa_threat.params.StrictModel`), checks that they agree with each
other (classes, years, models, the cocoa source) and that no top-level key is
unknown (with a did-you-mean), and returns every problem at once. The Kedro hook
:class:`~cocoa_threat.hooks.ParameterCheckHook` calls it, so a typo in the last
pipeline's block fails a full run in seconds, before any node has run.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import Field

from cocoa_threat.compute_params import compute_params
from cocoa_threat.errors import ParameterError
from cocoa_threat.models.config import TrainingParams, parse_model_params
from cocoa_threat.params import StrictModel, land_use_params, parse_params
from cocoa_threat.pipelines.economics.params import economics_params
from cocoa_threat.pipelines.inference.params import inference_params
from cocoa_threat.pipelines.ingestion.params import ingestion_params
from cocoa_threat.pipelines.mercury.params import mercury_params
from cocoa_threat.pipelines.reporting.params import reporting_params
from cocoa_threat.pipelines.risk.params import risk_params
from cocoa_threat.pipelines.transition.params import TransitionParams

# The pipelines that value or expose cocoa: they need a cocoa class.
NEEDS_COCOA = {
    "economics": "the economics pipeline",
    "mercury": "mercury exposure of cocoa",
    "risk": "the risk pipeline",
}


class PeriodParams(StrictModel):
    """``before`` / ``after``: the year of an image date."""

    year: int = Field(ge=1984, le=2100)


def _training(block: Any) -> TrainingParams:
    return parse_params(TrainingParams, block, "training")


def _period(key: str) -> Callable[[Any], Any]:
    return lambda block: parse_params(PeriodParams, block, key)


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "land_use": land_use_params,
    "compute": compute_params,
    "ingestion": ingestion_params,
    "training": _training,
    "inference": inference_params,
    "before": _period("before"),
    "after": _period("after"),
    "transition": lambda block: parse_params(TransitionParams, block, "transition"),
    "economics": economics_params,
    "mercury": mercury_params,
    "risk": risk_params,
    "reporting": reporting_params,
}


def top_level_keys(param_inputs: Iterable[str]) -> set[str]:
    """The top-level parameter keys behind node inputs such as ``params:risk.weights``."""
    out = set()
    for name in param_inputs:
        if name.startswith("params:"):
            out.add(name.removeprefix("params:").split(".")[0])
    return out


def _unknown_keys(params: dict[str, Any], models: list[str]) -> list[str]:
    known = set(VALIDATORS) | set(models)
    problems = []
    for key in sorted(set(params) - known):
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(f"{key}: unknown top-level parameter{hint}")
    return problems


def _cross_checks(parsed: dict[str, Any], models: list[str]) -> list[str]:
    problems: list[str] = []
    land_use = parsed.get("land_use")
    if land_use is not None and "ingestion" in parsed:
        try:
            parsed["ingestion"].check_land_use(land_use)
        except ValueError as exc:
            problems.append(str(exc))
    if land_use is not None and "transition" in parsed:
        problems += parsed["transition"].check_land_use(land_use)
    if "inference" in parsed:
        wanted = parsed["inference"].model
        if wanted != "best" and wanted not in models:
            problems.append(
                f"inference.model: {wanted!r} is not 'best' nor one of training.models {models}"
            )
    if "ingestion" in parsed:
        for key in ("before", "after"):
            if key in parsed and parsed[key].year not in parsed["ingestion"].years:
                problems.append(
                    f"{key}.year: {parsed[key].year} is not one of ingestion.years "
                    f"{parsed['ingestion'].years}"
                )
    if land_use is not None and land_use.cocoa_class is None:
        for key, what in NEEDS_COCOA.items():
            if key in parsed:
                problems.append(
                    f"{key}: {what} needs a cocoa class, but this is a two-class study "
                    f"(ingestion.labels.cocoa.source: none, land_use.cocoa_class: null); give "
                    f"ingestion.labels.cocoa a cocoa source, or leave this pipeline out"
                )
    if land_use is not None:
        for name in models:
            spec = parsed.get(name)
            weights = getattr(spec, "class_weights", None)
            if weights is not None and len(weights) != land_use.n_classes:
                problems.append(
                    f"{name}.model.class_weights: {len(weights)} weights for "
                    f"{land_use.n_classes} classes in land_use.classes"
                )
    return problems


def check_parameters(params: dict[str, Any], needed: set[str] | None = None) -> list[str]:
    """Every problem with the parameters a run uses (empty when all is well).

    Args:
        params: All parameters, as Kedro loaded them.
        needed: The top-level keys the run's nodes use (None: every block present).

    Returns:
        One line per problem, each naming the key to fix.
    """
    try:
        models = list(_training(params.get("training", {})).models)
    except ParameterError:
        models = [k for k, v in params.items() if isinstance(v, dict) and "model" in v]
    wanted = set(params) if needed is None else set(needed) | {"land_use"}
    problems = _unknown_keys(params, models)
    parsed: dict[str, Any] = {}
    for key in sorted(wanted):
        if key not in params:
            if key in VALIDATORS or key in models:
                problems.append(f"{key}: missing; add its block to conf/base/parameters_*.yml")
            continue
        try:
            if key in models:
                block = params[key]
                if not isinstance(block, dict) or set(block) != {"model"}:
                    problems.append(f"{key}: a model block holds exactly one key, 'model'")
                    continue
                parsed[key] = parse_model_params(block["model"], f"{key}.model")
            elif key in VALIDATORS:
                parsed[key] = VALIDATORS[key](params[key])
        except ParameterError as exc:
            problems += [line.strip().removeprefix("- ") for line in str(exc).splitlines()[1:]]
    return problems + _cross_checks(parsed, models)


def require_valid_parameters(params: dict[str, Any], needed: set[str] | None = None) -> None:
    """Raise one :class:`ParameterError` listing every problem, if any."""
    problems = check_parameters(params, needed)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ParameterError(f"Invalid parameters (fix them in conf/; nothing has run):\n{listed}")
