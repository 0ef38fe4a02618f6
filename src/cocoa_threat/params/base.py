"""The base of every parameter schema: strict, finite, and errors that name the full key.

Every schema derives from :class:`StrictModel` (unknown keys are errors, numbers
are finite). A top-level block of conf (``risk``, ``ingestion`` ...) is a
:class:`Block`: Kedro builds it from the node type hints of ``params:<block>``
inputs, and a bad value fails with one message that names each offending key in
full (e.g. ``risk.weights.mercury``), so a typo is fixed in one go.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from cocoa_threat.errors import ParameterError


def non_finite_keys(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """The dotted keys under ``value`` that hold NaN or an infinity (any depth)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [".".join(path)]
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in non_finite_keys(v, (*path, str(key)))]
    if isinstance(value, list | tuple):
        return [k for i, v in enumerate(value) for k in non_finite_keys(v, (*path, str(i)))]
    return []


class StrictModel(BaseModel):
    """Base of every parameter schema.

    Unknown keys are errors, values are checked on assignment, and every number
    is finite: NaN and infinities are refused at any depth, also inside free-form
    blocks (e.g. a model's ``model_args``).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _finite(cls, data: Any) -> Any:
        bad = non_finite_keys(data) if isinstance(data, dict) else []
        if bad:
            raise ValueError(
                f"{', '.join(bad)}: not a finite number (NaN and infinities are not "
                f"allowed; give a real number)"
            )
        return data


M = TypeVar("M", bound=BaseModel)


def parse_params(
    model: type[M],
    params: dict[str, Any] | BaseModel,
    prefix: str,
    drop_loc: set[str] | None = None,
) -> M:
    """Validate a parameter block, naming the offending keys on failure.

    Args:
        model: The pydantic model of the block.
        params: The block as loaded from conf (or an already validated model).
        prefix: The block's key in conf, e.g. ``"ingestion"``.
        drop_loc: Error-location parts that are not conf keys (union tags).

    Returns:
        The validated model.

    Raises:
        ParameterError: With one line per problem, each naming the full key.
    """
    if isinstance(params, model):
        return params
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ParameterError(describe(exc, prefix, drop_loc)) from None


def describe(exc: ValidationError, prefix: str, drop_loc: set[str] | None = None) -> str:
    """One line per problem of a validation error, each naming the full conf key."""
    lines = []
    for err in exc.errors():
        parts = [str(p) for p in err["loc"] if str(p) not in (drop_loc or set())]
        key = ".".join([prefix, *parts])
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  - {key}: {msg}")
    return f"Invalid parameters under '{prefix}' (fix them in conf/):\n" + "\n".join(lines)


class Block(StrictModel):
    """A top-level block of conf (``conf_key``), as nodes receive it.

    Kedro instantiates it with ``model_validate`` from a node's type hint
    (``risk: RiskParams`` for ``params:risk``), once per run, before the first
    node; its errors name the full keys.
    """

    conf_key: ClassVar[str]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Validate a block of conf; a :class:`ParameterError` names every bad key."""
        if isinstance(obj, cls):
            return obj
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise ParameterError(describe(exc, cls.conf_key)) from None
