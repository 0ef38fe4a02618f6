"""Exceptions that tell the user what is wrong, where, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


class ParameterError(ValueError):
    """A parameter in ``conf/`` is missing or invalid."""


class DataValidationError(ValueError):
    """Input data can't be used; the message lists every problem found."""

    def __init__(self, summary: str, problems: list[str]) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{summary} ({len(self.problems)} problem(s)):\n{listed}")


class SourceUnavailableError(RuntimeError):
    """A remote data source or model weights could not be reached."""


class NonFiniteError(ValueError):
    """A computed value is NaN or infinite: an input is wrong, never a result to report."""


def require_finite(
    table: Any, what: str, inputs: str, optional: Iterable[str] = (), key: str | None = None
) -> Any:
    """Return ``table`` if every number in it is finite, else stop naming where and why.

    Args:
        table: A DataFrame of results.
        what: The result's name (e.g. ``economic_summary``), for the message.
        inputs: What it was computed from (datasets and parameter keys), for the message.
        optional: Columns where NaN means "not available" (never infinite).
        key: A column naming the rows, for the message.

    Raises:
        NonFiniteError: Naming the cells and the inputs to check.
    """
    numbers = table.select_dtypes("number")
    bad = ~np.isfinite(numbers.to_numpy(dtype=float))
    allowed = [c in set(optional) for c in numbers.columns]
    bad &= ~(np.isnan(numbers.to_numpy(dtype=float)) & np.array(allowed)[None, :])
    if not bad.any():
        return table
    rows, cols = np.nonzero(bad)
    cells = [
        f"{numbers.columns[c]} of {table[key].iloc[r] if key else r} = {numbers.iat[r, c]}"
        for r, c in zip(rows[:5], cols[:5], strict=True)
    ]
    raise NonFiniteError(
        f"{what} has {int(bad.sum())} value(s) that are not finite ({'; '.join(cells)}); "
        f"they come from {inputs}: check those inputs; nothing was written"
    )
