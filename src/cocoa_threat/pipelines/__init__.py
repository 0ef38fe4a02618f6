"""cocoa-threat pipelines, one folder each, and what their templates share (:func:`bind`,
:func:`named_node`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node


def bind(func: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``partial`` that keeps the function's name, docstring and type hints.

    Kedro viz shows the name and docstring; Kedro builds the typed parameter
    objects from the hints (they stay the function's, through ``__wrapped__``).
    """
    return update_wrapper(partial(func, **kwargs), func)


def named_node(func: Callable[..., Any], inputs: list[str], outputs: str | list[str]) -> Node:
    """A node named after its function (``Node(func, inputs, outputs, name=func.__name__)``)."""
    return Node(func, inputs=inputs, outputs=outputs, name=func.__name__)
