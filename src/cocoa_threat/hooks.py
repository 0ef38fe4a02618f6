"""Kedro hooks of cocoa-threat (registered in ``settings.py``).

* :class:`ParameterCheckHook`: every parameter block the pipelines about to run
  use is checked before the first node runs, with every problem in one message.
* :class:`RefreshComparisonHook`: after a run that trained some models (e.g.
  ``--namespaces=resnet50``) but did not compare them, the model comparison is
  rebuilt from the metrics of every model that exists.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)


def _params(catalog: DataCatalog) -> dict[str, Any]:
    return dict(catalog.load("parameters")) if "parameters" in catalog else {}


class ParameterCheckHook:
    """Fail a run whose parameters are wrong before anything runs, naming every key."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Check the blocks the run's nodes use, their agreement, and unknown keys."""
        from cocoa_threat.parameter_checks import require_valid_parameters, top_level_keys

        needed = top_level_keys(i for node in pipeline.nodes for i in node.inputs)
        require_valid_parameters(_params(catalog), needed)
        logger.info("Parameters checked: %s", ", ".join(sorted(needed)) or "none used")


class RefreshComparisonHook:
    """Rebuild ``model_comparison`` when a run trained models without comparing them."""

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Compare every model whose metrics exist (trained now or earlier)."""
        names = {n.name for n in pipeline.nodes}
        trained = any(n.endswith("evaluate_on_test_split") for n in names)
        if not trained or "compare_models" in names:
            return
        from cocoa_threat.conf import model_names
        from cocoa_threat.pipelines.training.nodes import compare_models, model_comparison_markdown

        params = _params(catalog)
        models = params.get("training", {}).get("models") or list(model_names())
        metrics = [catalog.load(f"{m}.metrics") for m in models]
        table = compare_models(params["training"], *metrics)
        catalog.save("model_comparison", table)
        catalog.save("model_comparison_markdown", model_comparison_markdown(table))
        logger.info(
            "Refreshed model_comparison from the metrics of %s", sorted(set(table["model"]))
        )
