"""The random forest's prediction is the forest's mean vote and does not depend on threads."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from cocoa_threat.models.forest import forest_proba, predict_forest


@pytest.fixture(scope="module")
def fitted() -> tuple[RandomForestClassifier, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 4))
    y = (x[:, 0] + 0.5 * rng.normal(size=3000) > 0).astype(int) + (x[:, 1] > 1).astype(int)
    forest = RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0, n_jobs=2)
    forest.fit(x, y)
    return forest, rng.normal(size=(5000, 4))


def test_equals_sklearns_mean_vote(fitted: tuple[RandomForestClassifier, np.ndarray]) -> None:
    forest, x = fitted
    np.testing.assert_allclose(forest_proba(forest, x), forest.predict_proba(x), atol=1e-12)


def test_bitwise_the_same_whatever_the_threads_and_chunks(
    fitted: tuple[RandomForestClassifier, np.ndarray],
) -> None:
    forest, x = fitted
    # the definition: every tree's probabilities added in the forest's own order
    expected = np.zeros((len(x), len(forest.classes_)))
    for tree in forest.estimators_:
        expected += tree.predict_proba(x.astype(np.float32))
    expected /= len(forest.estimators_)
    for n_jobs, chunk in [(1, 5000), (2, 700), (4, 333)]:
        forest.n_jobs = n_jobs
        assert np.array_equal(forest_proba(forest, x, chunk=chunk), expected), (n_jobs, chunk)


def test_labels_are_the_argmax_in_image_layout(
    fitted: tuple[RandomForestClassifier, np.ndarray],
) -> None:
    forest, x = fitted
    images = x[:4800].reshape(3, 40, 40, 4).transpose(0, 3, 1, 2)
    labels = predict_forest(forest, images)
    assert labels.shape == (3, 40, 40) and labels.dtype == np.uint8
    expected = forest.classes_[forest_proba(forest, x[:4800]).argmax(1)].reshape(3, 40, 40)
    assert np.array_equal(labels, expected)


def test_the_context_margin_is_cropped_before_predicting(
    fitted: tuple[RandomForestClassifier, np.ndarray],
) -> None:
    from cocoa_threat.models.base import SegmentationModel
    from cocoa_threat.models.forest import ForestSegmenter

    forest, _ = fitted
    config = {
        "means": [0.0] * 4,
        "stds": [1.0] * 4,
        "image_nodata": -9999.0,
        "class_names": ["background", "mining", "cocoa"],
    }
    model = ForestSegmenter("random_forest", config, forest)
    raw = np.random.default_rng(5).normal(size=(2, 4, 24, 24)).astype(np.float32)
    classes, scaled = model.predict_scaled(raw, 254, crop=4)
    whole_classes, whole_scaled = SegmentationModel.predict_scaled(model, raw, 254, crop=4)
    assert classes.shape == (2, 16, 16) and scaled.shape == (2, 3, 16, 16)
    assert np.array_equal(classes, whole_classes) and np.array_equal(scaled, whole_scaled)
