"""Metrics against hand-computed confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.metrics import confusion_matrix, scores_from_confusion

NAMES = ["background", "mining", "cocoa"]


def test_confusion_matrix_counts_and_ignores_no_label() -> None:
    ref = np.array([0, 0, 1, 1, 2, 2, 255, 255])
    pred = np.array([0, 1, 1, 1, 2, 0, 2, 0])
    cm = confusion_matrix(ref, pred, 3, 255)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_scores_by_hand() -> None:
    # reference rows, prediction columns
    cm = np.array([[50, 5, 5], [2, 10, 0], [8, 0, 20]])
    s = scores_from_confusion(cm, NAMES)
    # background: tp 50, ref 60, pred 60 -> IoU 50/70, P 50/60, R 50/60
    assert s["per_class"]["background"]["iou"] == pytest.approx(50 / 70)
    assert s["per_class"]["background"]["precision"] == pytest.approx(50 / 60)
    # mining: tp 10, ref 12, pred 15 -> IoU 10/17, F1 20/27, P 10/15, R 10/12
    assert s["per_class"]["mining"]["iou"] == pytest.approx(10 / 17)
    assert s["per_class"]["mining"]["f1"] == pytest.approx(20 / 27)
    assert s["per_class"]["mining"]["recall"] == pytest.approx(10 / 12)
    # cocoa: tp 20, ref 28, pred 25 -> IoU 20/33
    assert s["per_class"]["cocoa"]["iou"] == pytest.approx(20 / 33)
    assert s["miou"] == pytest.approx((50 / 70 + 10 / 17 + 20 / 33) / 3)
    assert s["overall_accuracy"] == pytest.approx(80 / 100)
    assert s["n_pixels"] == 100
    assert s["per_class"]["cocoa"]["support"] == 28


def test_absent_class_is_left_out_of_means() -> None:
    cm = np.array([[5, 0, 0], [0, 0, 0], [0, 0, 5]])
    s = scores_from_confusion(cm, NAMES)
    assert s["per_class"]["mining"]["iou"] is None
    assert s["miou"] == pytest.approx(1.0)


def test_labels_out_of_range_fail() -> None:
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3, 255)
