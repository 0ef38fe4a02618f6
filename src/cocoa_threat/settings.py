"""Project settings: see https://docs.kedro.org/en/stable/configure/configuration_basics/."""

import warnings

from kedro.config import OmegaConfigLoader

from cocoa_threat.conf import MERGE_STRATEGY, ProjectContext
from cocoa_threat.hooks import ParameterCheckHook, ProjectLockHook
from cocoa_threat.tracking import TrackingHook

# A model's datasets are namespaced on purpose ("resnet50.metrics"), and the comparison and
# the report read them from outside the namespace; Kedro's advice against dots is for names
# that are not namespaces. Only that warning is silenced.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.' characters")

# The parameters are checked before the lock is taken (ProjectLockHook runs last before a
# run and last after it).
HOOKS = (ParameterCheckHook(), ProjectLockHook(), TrackingHook())

# kedro-mlflow (the optional [mlflow] extra) tracks only with --env=mlflow, through
# TrackingHook: its own hooks would otherwise track every run once it is installed.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)

# The context tells the pipeline registry the models of the run (training.models), read
# from this session's config loader: --env, KEDRO_ENV and --params shape the pipelines alike.
CONTEXT_CLASS = ProjectContext

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Environments such as conf/smallminesds/ override single keys of conf/base/.
    "merge_strategy": MERGE_STRATEGY,
}
