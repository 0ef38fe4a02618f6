"""Choosing the model: scores only from the same version, the split and classes checked."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.models.base import SegmentationModel
from cocoa_threat.models.selection import check_model_matches, choose_model, matching_test_score


class Fixed(SegmentationModel):
    """A model that needs no weights."""

    kind = "fixed"

    def proba(self, x: np.ndarray) -> np.ndarray:
        return np.zeros((x.shape[0], 3, *x.shape[2:]), np.float32)

    @classmethod
    def train(cls, *args, **kwargs):  # noqa: ANN002, ANN003, ANN206
        raise NotImplementedError

    def save_weights(self, folder):  # noqa: ANN001, ANN201
        return []

    @classmethod
    def load_weights(cls, name, build_config, folder):  # noqa: ANN001, ANN206
        return cls(name, build_config)


def _model(name: str, version: str, val: float | None, split: str = "s1") -> Fixed:
    model = Fixed(name, {"class_names": ["background", "mining", "cocoa"], "split_hash": split})
    model.version, model.training = version, {"val_miou": val}
    return model


def test_test_scores_come_only_from_the_same_version() -> None:
    model = _model("resnet50", "2026-11-27T07.00.00.000Z", 0.8)
    metrics = {"model_version": model.version, "test": {"all": {"miou": 0.77}}}
    assert matching_test_score(model, metrics) == 0.77
    older = {**metrics, "model_version": "2026-11-26T07.00.00.000Z"}
    assert matching_test_score(model, older) is None
    assert matching_test_score(model, None) is None


def test_best_is_the_highest_validation_score() -> None:
    models = {
        "a": _model("a", "v1", 0.6),
        "b": _model("b", "v2", 0.7),
        "c": _model("c", "v3", None),
    }
    name, reason = choose_model(models, "best")
    assert name == "b" and "a 0.600, b 0.700" in reason
    assert choose_model(models, "a")[0] == "a"


def test_a_model_of_another_split_or_classes_is_refused() -> None:
    model = _model("rf", "v1", 0.5, split="s1")
    check_model_matches(model, "s1", ["background", "mining", "cocoa"])
    with pytest.raises(ValueError, match=r"trained on split s1 but the tiles are now split as s2"):
        check_model_matches(model, "s2", ["background", "mining", "cocoa"])
    with pytest.raises(ValueError, match=r"predicts .* but land_use.classes is"):
        check_model_matches(model, "s1", ["background", "mining"])
