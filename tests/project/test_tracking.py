"""The tracking hook without the [mlflow] extra: what it logs, when it starts, when it is off."""

from __future__ import annotations

from types import SimpleNamespace

from kedro.framework.hooks.manager import _create_hook_manager

from cocoa_threat.settings import HOOKS
from cocoa_threat.tracking import TrackingHook, _flat_scores


def test_test_scores_are_flattened_with_f1_and_per_class_iou() -> None:
    metrics = {
        "test": {
            "all": {
                "miou": 0.5,
                "f1_macro": 0.6,
                "per_class": {"mining": {"iou": 0.7, "f1": 0.8}, "cocoa": {"iou": 0.3}},
                "ci": {"miou": [0.4, 0.6]},
            }
        },
        "validation": {"miou": 0.55},
    }
    assert _flat_scores(metrics, "rf") == {
        "rf.test.all.miou": 0.5,
        "rf.test.all.f1_macro": 0.6,
        "rf.test.all.iou.mining": 0.7,
        "rf.test.all.iou.cocoa": 0.3,
        "rf.validation.miou": 0.55,
    }


def test_the_mlflow_run_starts_after_the_checks_and_the_lock() -> None:
    manager = _create_hook_manager()
    for hook in HOOKS:
        manager.register(hook)
    # pluggy calls the implementations in reverse order of this list
    order = [i.plugin.__class__.__name__ for i in manager.hook.before_pipeline_run.get_hookimpls()]
    assert order[::-1] == ["ParameterCheckHook", "ProjectLockHook", "TrackingHook"]


def test_another_environment_switches_tracking_off() -> None:
    hook = TrackingHook()
    hook._mlflow = object()  # left on by an earlier session in the same process
    hook.after_context_created(SimpleNamespace(env="local"))
    assert hook._mlflow is None
