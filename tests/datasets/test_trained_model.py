"""Trained models through the catalog: versioned, atomic, hashes checked, loaded safely."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from kedro.io import DatasetError, Version
from sklearn.ensemble import RandomForestClassifier

from cocoa_threat.datasets import TrainedModelDataset
from cocoa_threat.models.base import MANIFEST, sha256
from cocoa_threat.models.forest import ForestSegmenter

BUILD = {
    "kind": "random_forest",
    "bands": ["RED", "NIR"],
    "means": [0.0, 0.0],
    "stds": [1.0, 1.0],
    "class_names": ["background", "mining", "cocoa"],
    "ignore_index": 255,
    "image_nodata": -9999.0,
    "split_hash": "abc123",
    "seed": 1,
}


def _forest() -> ForestSegmenter:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    return ForestSegmenter("random_forest", dict(BUILD), forest)


def _dataset(root: Path, load: str | None = None, missing_ok: bool = False) -> TrainedModelDataset:
    return TrainedModelDataset(
        str(root / "trained" / "random_forest"), version=Version(load, None), missing_ok=missing_ok
    )


class Boom:
    """Unpickling this would run code."""

    def __reduce__(self):  # noqa: ANN204
        return (Path("/tmp/cocoa-threat-pwned").touch, ())


def _folder(root: Path) -> Path:
    return next((root / "trained" / "random_forest").glob("*/random_forest"))


def test_round_trip_keeps_predictions_version_and_facts(tmp_path: Path) -> None:
    model = _forest()
    model.training = {"seed": 1, "val_miou": 0.5}
    _dataset(tmp_path).save(model)
    back = _dataset(tmp_path).load()
    x = np.random.default_rng(1).normal(size=(2, 2, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(back.proba(x), model.proba(x))
    np.testing.assert_array_equal(back.predict_labels(x), model.predict_labels(x))
    assert back.version == model.version and back.training == {"seed": 1, "val_miou": 0.5}
    assert back.split_hash == "abc123" and back.class_names == BUILD["class_names"]
    manifest = json.loads((_folder(tmp_path) / MANIFEST).read_text())
    assert manifest["files"] == {"forest.skops": sha256(_folder(tmp_path) / "forest.skops")}


def test_not_trained_yet(tmp_path: Path) -> None:
    assert _dataset(tmp_path, missing_ok=True).load() is None
    with pytest.raises(DatasetError):
        _dataset(tmp_path).load()


def test_a_changed_weights_file_is_refused(tmp_path: Path) -> None:
    _dataset(tmp_path).save(_forest())
    (_folder(tmp_path) / "forest.skops").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(
        DatasetError, match=r"changed since it was saved.*--namespaces=training.random_forest"
    ):
        _dataset(tmp_path).load()


def test_a_planted_file_with_a_matching_manifest_still_cannot_run_code(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    _dataset(tmp_path).save(_forest())
    folder = _folder(tmp_path)
    # An attacker who rewrites the manifest too: skops refuses the untrusted function.
    sio.dump(FunctionTransformer(func=Path.touch), folder / "forest.skops")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"]["forest.skops"] = sha256(folder / "forest.skops")
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="can't be loaded"):
        _dataset(tmp_path).load()
    # The same for a torch model: weights are loaded with weights_only=True.
    torch.save({"w": Boom()}, folder / "weights.pt")
    manifest.update(kind="terratorch", files={"weights.pt": sha256(folder / "weights.pt")})
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="can't be loaded"):
        _dataset(tmp_path).load()
    assert not Path("/tmp/cocoa-threat-pwned").exists()


def test_files_not_in_the_manifest_are_never_read(tmp_path: Path) -> None:
    _dataset(tmp_path).save(_forest())
    (_folder(tmp_path) / "extra.pkl").write_bytes(pickle.dumps(Boom()))
    assert _dataset(tmp_path).load() is not None
    assert not Path("/tmp/cocoa-threat-pwned").exists()


def test_versions_are_kept_and_a_failed_save_leaves_none(tmp_path: Path, monkeypatch) -> None:
    _dataset(tmp_path).save(_forest())
    first = _dataset(tmp_path).load().version

    def broken(self: ForestSegmenter, folder: Path) -> list[str]:
        (folder / "forest.skops").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(ForestSegmenter, "save_weights", broken)
    with pytest.raises(DatasetError, match="disk full"):
        _dataset(tmp_path).save(_forest())
    monkeypatch.undo()
    versions = list((tmp_path / "trained" / "random_forest").iterdir())
    assert [[p.name for p in v.iterdir()] for v in versions] == [["random_forest"]]
    assert _dataset(tmp_path).load().version == first
    _dataset(tmp_path).save(_forest())
    assert _dataset(tmp_path).load().version > first
    assert _dataset(tmp_path, load=first).load().version == first  # a pinned version
    with pytest.raises(DatasetError, match="expects a SegmentationModel"):
        _dataset(tmp_path).save({"weights": 1})  # type: ignore[arg-type]


def _rewrite(folder: Path, **changes: object) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest.update(changes)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_a_manifest_that_lists_no_files_is_refused(tmp_path: Path) -> None:
    # Another run's weights beside a manifest that lists nothing: never loaded unchecked.
    _dataset(tmp_path).save(_forest())
    _rewrite(_folder(tmp_path), files={})
    with pytest.raises(DatasetError, match=r"lists files \[\] but .* exactly \['forest.skops'\]"):
        _dataset(tmp_path).load()


def test_a_manifest_listing_other_files_than_the_loader_reads_is_refused(tmp_path: Path) -> None:
    _dataset(tmp_path).save(_forest())
    folder = _folder(tmp_path)
    (folder / "extra.bin").write_bytes(b"x")
    files = {
        "forest.skops": sha256(folder / "forest.skops"),
        "extra.bin": sha256(folder / "extra.bin"),
    }
    _rewrite(folder, files=files)
    with pytest.raises(DatasetError, match="lists files .*extra.bin"):
        _dataset(tmp_path).load()


def test_files_outside_the_model_folder_are_refused(tmp_path: Path) -> None:
    _dataset(tmp_path).save(_forest())
    folder = _folder(tmp_path)
    outside = tmp_path / "elsewhere.skops"
    outside.write_bytes((folder / "forest.skops").read_bytes())
    # A '../' name: said to be outside the folder, not "missing".
    _rewrite(folder, files={"../elsewhere.skops": sha256(outside)})
    with pytest.raises(DatasetError, match="lists files"):
        _dataset(tmp_path).load()
    from cocoa_threat.models.base import read_manifest

    with pytest.raises(ValueError, match=r"elsewhere.skops lies outside the model folder"):
        read_manifest(folder)
    # A symbolic link leaving the folder, under the exact name the loader reads.
    _rewrite(folder, files={"forest.skops": sha256(outside)})
    (folder / "forest.skops").unlink()
    (folder / "forest.skops").symlink_to(outside)
    with pytest.raises(DatasetError, match="lies outside the model folder"):
        _dataset(tmp_path).load()
