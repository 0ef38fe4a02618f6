"""Validation of parameter blocks from ``conf/`` with pydantic models."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cocoa_threat.errors import ParameterError

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
        lines = []
        for err in exc.errors():
            parts = [str(p) for p in err["loc"] if str(p) not in (drop_loc or set())]
            key = ".".join([prefix, *parts])
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  - {key}: {msg}")
        raise ParameterError(
            f"Invalid parameters under '{prefix}' (fix them in conf/):\n" + "\n".join(lines)
        ) from None
