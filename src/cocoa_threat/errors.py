"""Exceptions that tell the user what is wrong, where, and how to fix it."""

from __future__ import annotations


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
