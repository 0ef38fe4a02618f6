"""Kedro hooks of cocoa-threat (registered in ``settings.py``).

* :class:`ParameterCheckHook`: every parameter block the pipelines about to run
  use is checked before the first node runs, with every problem in one message.
* :class:`ProjectLockHook`: one run at a time writes under ``data/`` (a second
  run stops at once with a message naming the first).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)


def _params(catalog: DataCatalog) -> dict[str, Any]:
    return dict(catalog.load("parameters")) if "parameters" in catalog else {}


# Registered pipelines that start with others, so that they work on a fresh clone.
CHAINED = {
    "ingestion": "the acquisition of ingestion.source (demo or download; none for local)",
    "training": "the acquisition and the ingestion (the model input is rewritten in seconds)",
}


class ParameterCheckHook:
    """Fail a run whose parameters are wrong before anything runs, naming every key."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Check the blocks the run's nodes use, their agreement, and unknown keys."""
        from cocoa_threat.params.checks import require_valid_parameters, top_level_keys

        needed = top_level_keys(i for node in pipeline.nodes for i in node.inputs)
        require_valid_parameters(_params(catalog), needed)
        logger.info("Parameters checked: %s", ", ".join(sorted(needed)) or "none used")
        for name in set(run_params.get("pipeline_names") or []) & set(CHAINED):
            logger.info("kedro run --pipeline=%s runs %s first", name, CHAINED[name])


def run_description(run_params: dict[str, Any]) -> str:
    """What a run is, for the lock's message: its pipelines, namespaces and run id."""
    names = run_params.get("pipeline_names") or ["__default__"]
    what = f"kedro run --pipeline={','.join(names)}"
    if run_params.get("namespaces"):
        what += f" --namespaces={','.join(run_params['namespaces'])}"
    if run_params.get("env"):
        what += f" --env={run_params['env']}"
    return f"{what} (run {run_params.get('run_id')})"


class ProjectLockHook:
    """Hold ``data/.lock`` for the whole run, after the parameters are checked."""

    def __init__(self) -> None:
        """No lock held yet."""
        self._lock: Any = None

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Take the lock (waiting ``COCOA_THREAT_LOCK_WAIT_S`` seconds at most); a run
        started as one of several processes (torchrun, srun) is refused first."""
        from cocoa_threat.locking import (
            ProjectLock,
            lock_supported,
            refuse_several_processes,
            sweep_partials,
        )

        refuse_several_processes()
        if not lock_supported():
            logger.warning("No project lock on this platform: do not run two runs at once")
            return
        root = Path(run_params.get("project_path") or Path.cwd())
        wait = float(os.environ.get("COCOA_THREAT_LOCK_WAIT_S", "0"))
        self._lock = ProjectLock(root / "data" / ".lock", wait_s=wait)
        self._lock.acquire(run_description(run_params))
        removed = sweep_partials(root / "data")
        if removed:
            logger.info(
                "Removed %d half-written file(s) of interrupted runs, e.g. %s",
                len(removed),
                removed[0],
            )

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @hook_impl(trylast=True)
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Give the lock back once every after-run hook has written its outputs."""
        self._release()

    @hook_impl
    def on_pipeline_error(
        self,
        error: Exception,
        run_params: dict[str, Any],
        pipeline: Pipeline,
        catalog: DataCatalog,
    ) -> None:
        """Give the lock back after a failed run."""
        self._release()
