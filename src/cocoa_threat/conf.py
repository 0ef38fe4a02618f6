"""What the pipelines' shape depends on in conf: the list of models (``training.models``).

Kedro builds pipelines before it reads the run's parameters, so the list of
model namespaces is read here from the project's ``conf/`` (the base
environment, overlaid with ``$KEDRO_ENV`` when that is set). Everything else
about the models is a parameter like any other.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

DEFAULT_MODELS = ("prithvi", "resnet50", "random_forest")
# How environments such as conf/smallminesds/ override conf/base/: parameters key by key;
# a catalog entry of an environment (e.g. conf/mlflow/) replaces the base entry whole.
MERGE_STRATEGY = {"parameters": "soft", "catalog": "destructive", "globals": "soft"}


def _conf_dir() -> Path:
    here = Path.cwd() / "conf"
    if (here / "base").is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "conf"


@lru_cache(maxsize=4)
def model_names(env: str | None = None) -> tuple[str, ...]:
    """The model namespaces, in the order of ``training.models``."""
    from kedro.config import OmegaConfigLoader

    conf = _conf_dir()
    if not (conf / "base").is_dir():
        return DEFAULT_MODELS
    run_env = env or os.environ.get("KEDRO_ENV") or "base"
    loader = OmegaConfigLoader(
        conf_source=str(conf),
        base_env="base",
        default_run_env=run_env if (conf / run_env).is_dir() else "base",
        merge_strategy=MERGE_STRATEGY,
    )
    models = loader["parameters"].get("training", {}).get("models")
    return tuple(models) if models else DEFAULT_MODELS
