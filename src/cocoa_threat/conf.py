"""What the pipelines' shape depends on in conf: the models and where the raw data comes from.

Kedro builds the pipelines before it runs them: the model namespaces come from
``training.models``, and the acquisition pipeline of the default run from
``ingestion.source`` (``demo`` for synthetic, ``download`` for huggingface,
none for local). Both are read from the config loader of the running session
(:class:`ProjectContext`, Kedro's ``CONTEXT_CLASS``), so ``kedro run
--env=<env>``, ``KEDRO_ENV`` and ``--params`` all give the same pipelines, and
no second config loader ever replaces the session's ``${globals:...}`` and
``${runtime_params:...}`` resolvers.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.context import KedroContext

logger = logging.getLogger(__name__)

DEFAULT_MODELS = ("prithvi", "resnet50", "random_forest")
DEFAULT_SOURCE = "synthetic"
# How environments such as conf/smallminesds/ override conf/base/: parameters key by key;
# a catalog entry of an environment (e.g. conf/mlflow/) replaces the base entry whole.
MERGE_STRATEGY = {"parameters": "soft", "catalog": "destructive", "globals": "soft"}
REGISTRY = "cocoa_threat.pipeline_registry"

_state: dict[str, Any] = {"models": None, "source": None, "built_with": None}


def model_names() -> tuple[str, ...]:
    """The model namespaces of the running session (``training.models``), in their order.

    Outside a Kedro session (e.g. ``register_pipelines()`` called directly) the
    project's default list is used.
    """
    models = _state["models"] or DEFAULT_MODELS
    _state["built_with"] = (models, raw_source())
    return models


def raw_source() -> str:
    """Where the run's raw data comes from (``ingestion.source``; default: the demo)."""
    return _state["source"] or DEFAULT_SOURCE


def use_models(parameters: dict[str, Any]) -> None:
    """Build the pipelines for these parameters (``training.models``, ``ingestion.source``).

    Kedro's pipeline registry is lazy and kept for the process: it is reset when
    they differ from those the pipelines were built with (a notebook or a test
    that opens sessions of several environments).
    """
    models = (parameters.get("training") or {}).get("models")
    wanted = tuple(models) if models else DEFAULT_MODELS
    _state["models"] = wanted
    _state["source"] = (parameters.get("ingestion") or {}).get("source") or DEFAULT_SOURCE
    if _state["built_with"] not in (None, (wanted, _state["source"])):
        from kedro.framework.project import pipelines

        logger.debug("training.models or ingestion.source changed: pipelines rebuilt")
        pipelines.configure(REGISTRY)
        _state["built_with"] = None


class ProjectContext(KedroContext):
    """Kedro's context, which also tells the pipeline registry the run's shape."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Kedro's context; then the pipelines' shape from this session's config loader
        (``--env``, ``KEDRO_ENV`` and ``--params`` alike)."""
        super().__init__(*args, **kwargs)
        use_models(self.config_loader["parameters"])
