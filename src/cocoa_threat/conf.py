"""What the pipelines' shape depends on in conf: the list of models (``training.models``).

Kedro builds the pipelines before it runs them, and the model namespaces come
from ``training.models``. The list is read from the config loader of the
running session (:class:`ProjectContext`, Kedro's ``CONTEXT_CLASS``), so
``kedro run --env=<env>``, ``KEDRO_ENV`` and ``--params`` all give the same
pipelines, and no second config loader ever replaces the session's
``${globals:...}`` and ``${runtime_params:...}`` resolvers.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.context import KedroContext

logger = logging.getLogger(__name__)

DEFAULT_MODELS = ("prithvi", "resnet50", "random_forest")
# How environments such as conf/smallminesds/ override conf/base/: parameters key by key;
# a catalog entry of an environment (e.g. conf/mlflow/) replaces the base entry whole.
MERGE_STRATEGY = {"parameters": "soft", "catalog": "destructive", "globals": "soft"}
REGISTRY = "cocoa_threat.pipeline_registry"

_state: dict[str, tuple[str, ...] | None] = {"models": None, "built_with": None}


def model_names() -> tuple[str, ...]:
    """The model namespaces of the running session (``training.models``), in their order.

    Outside a Kedro session (e.g. ``register_pipelines()`` called directly) the
    project's default list is used.
    """
    models = _state["models"] or DEFAULT_MODELS
    _state["built_with"] = models
    return models


def use_models(parameters: dict[str, Any]) -> None:
    """Build the pipelines for the models of these parameters (``training.models``).

    Kedro's pipeline registry is lazy and kept for the process: it is reset when
    the list differs from the one the pipelines were built with (a notebook or a
    test that opens sessions of several environments).
    """
    models = (parameters.get("training") or {}).get("models")
    wanted = tuple(models) if models else DEFAULT_MODELS
    _state["models"] = wanted
    if _state["built_with"] not in (None, wanted):
        from kedro.framework.project import pipelines

        logger.debug("training.models changed to %s: pipelines rebuilt", list(wanted))
        pipelines.configure(REGISTRY)
        _state["built_with"] = None


class ProjectContext(KedroContext):
    """Kedro's context, which also tells the pipeline registry the run's models."""

    def __attrs_post_init__(self) -> None:
        """Read ``training.models`` from this session's config loader (env and --params)."""
        use_models(self.config_loader["parameters"])
