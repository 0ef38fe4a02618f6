"""Optional experiment tracking with kedro-mlflow (``pip install -e ".[mlflow]"``).

Tracking is on only in the ``mlflow`` environment (``kedro run --env=mlflow``,
configured by ``conf/mlflow/``): the default run stays offline and light even
where the extra is installed (``settings.DISABLE_HOOKS_FOR_PLUGINS`` keeps
kedro-mlflow's own hooks off; :class:`TrackingHook` switches them on for that
environment). A tracked run is one MLflow run per ``kedro run`` with:

* the parameters of every node (kedro-mlflow: ``prithvi.model.optim.lr`` ...);
* per-epoch training and validation metrics from Lightning (``<model>.seed_<n>/...``);
* each model's test scores (``<model>.test.miou`` ...) and its trained model as artifacts;
* the metrics JSON, the comparison table and the confusion matrices as artifacts
  (``conf/mlflow/catalog.yml``).
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

ENVIRONMENT = "mlflow"


def active_run_id() -> str | None:
    """The id of the active MLflow run, None if MLflow is absent or no run is active."""
    try:
        import mlflow
    except ImportError:
        return None
    run = mlflow.active_run()
    return run.info.run_id if run else None


def lightning_loggers(prefix: str) -> list[Any]:
    """A Lightning logger into the active MLflow run (none when nothing is tracked).

    The run belongs to the Kedro run: the logger never ends it.
    """
    run_id = active_run_id()
    if run_id is None:
        return []
    import mlflow

    return [shared_run_logger(run_id, mlflow.get_tracking_uri(), prefix)]


def shared_run_logger(run_id: str, tracking_uri: str, prefix: str) -> Any:
    """A Lightning ``MLFlowLogger`` into the run ``run_id``, which it leaves open.

    It pickles as a call of this function, so DDP's spawned processes (which get the
    trainer pickled) rebuild it and log into the same run.
    """
    from lightning.pytorch.loggers import MLFlowLogger

    class SharedRunLogger(MLFlowLogger):
        """Logs into a run it did not start, and leaves it open."""

        def finalize(self, status: str = "success") -> None:
            """Flush, but do not terminate the Kedro run's MLflow run."""

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            """Nothing: kedro-mlflow logs every parameter under its conf key
            (``prithvi.model.model_args.backbone``); Lightning's unprefixed copies
            (``model_args/backbone``) of two models would collide in the one run."""

        def __reduce__(self) -> tuple[Any, tuple[str, str, str]]:
            return shared_run_logger, (run_id, tracking_uri, prefix)

    # Synchronous: each epoch's metrics are in the run when logged, whatever MLflow's
    # process-wide async setting (finalize, which would flush, leaves the run to Kedro).
    return SharedRunLogger(
        run_id=run_id, tracking_uri=tracking_uri, prefix=prefix, log_model=False, synchronous=True
    )


def as_conf(value: Any) -> Any:
    """A typed parameter block as the plain values of conf (anything else unchanged)."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def _flat_scores(metrics: dict[str, Any], prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    test = metrics.get("test", {})
    for year, scores in test.items():
        for key in ("miou", "f1_macro"):
            if isinstance(scores.get(key), int | float):
                out[f"{prefix}.test.{year}.{key}"] = float(scores[key])
        for name, per_class in (scores.get("per_class") or {}).items():
            if isinstance(per_class.get("iou"), int | float):
                out[f"{prefix}.test.{year}.iou.{name}"] = float(per_class["iou"])
    val = (metrics.get("validation") or {}).get("miou")
    if isinstance(val, int | float):
        out[f"{prefix}.validation.miou"] = float(val)
    return out


class TrackingHook:
    """kedro-mlflow in the ``mlflow`` environment, plus the project's model results."""

    def __init__(self) -> None:
        """Nothing tracked until a context of the ``mlflow`` environment is created."""
        self._mlflow: Any = None
        self._catalog: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Switch kedro-mlflow on for ``--env=mlflow`` (and off for any other session)."""
        self._mlflow = None
        if context.env != ENVIRONMENT:
            return
        try:
            from kedro_mlflow.framework.hooks import MlflowHook
        except ImportError as exc:
            raise ImportError(
                'kedro run --env=mlflow needs the tracking extra: pip install -e ".[mlflow]"'
            ) from exc
        self._mlflow = MlflowHook()
        self._mlflow.after_context_created(context)
        logger.info("Tracking this run with MLflow (%s)", context.mlflow.server.mlflow_tracking_uri)

    @hook_impl
    def after_catalog_created(  # noqa: PLR0913
        self,
        catalog: Any,
        conf_catalog: dict[str, Any],
        conf_creds: dict[str, Any],
        parameters: dict[str, Any],
        save_version: str,
        load_versions: dict[str, str],
    ) -> None:
        """Forward to kedro-mlflow (names of metric datasets); keep the catalog."""
        self._catalog = catalog
        if self._mlflow is not None:
            self._mlflow.after_catalog_created(
                catalog=catalog,
                conf_catalog=conf_catalog,
                conf_creds=conf_creds,
                parameters=parameters,
                save_version=save_version,
                load_versions=load_versions,
            )

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        """Start the MLflow run (kedro-mlflow), after the parameter check and the lock: a run
        that stops there leaves no empty MLflow run behind."""
        if self._mlflow is not None:
            self._mlflow.before_pipeline_run(
                run_params=run_params, pipeline=pipeline, catalog=catalog
            )

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: Any, is_async: bool) -> None:
        """Log the node's parameters (kedro-mlflow), typed blocks as the dicts of conf.

        kedro-mlflow flattens dict parameters into one key each
        (``prithvi.model.optim.lr``); the nodes' typed blocks are given to it as such.
        """
        if self._mlflow is not None:
            plain = {k: as_conf(v) if k.startswith("params:") else v for k, v in inputs.items()}
            self._mlflow.before_node_run(
                node=node, catalog=catalog, inputs=plain, is_async=is_async
            )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Log each model's test scores, and its trained model folder once saved."""
        if self._mlflow is None or self._catalog is None:
            return
        import mlflow

        model = dataset_name.rsplit(".", 1)[0]
        if dataset_name.endswith(".metrics") and isinstance(data, dict):
            mlflow.log_metrics(_flat_scores(data, model))
        elif dataset_name.endswith(".trained_model") and data is not None:
            folder = self._catalog[dataset_name]._get_load_path()  # the version just saved
            mlflow.log_artifacts(str(folder), artifact_path=f"models/{model}")

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        """End the MLflow run (kedro-mlflow), after the other hooks have saved their outputs."""
        if self._mlflow is not None:
            self._mlflow.after_pipeline_run(
                run_params=run_params, pipeline=pipeline, catalog=catalog
            )

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: Any, pipeline: Any, catalog: Any
    ) -> None:
        """Close the MLflow run of a failed run (kedro-mlflow)."""
        if self._mlflow is not None:
            self._mlflow.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            )
