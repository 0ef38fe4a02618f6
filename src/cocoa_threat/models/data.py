"""In-memory training data: every GeoTIFF of the model input is read once.

SmallMinesDS is small (about 2,100 tiles x 2 years x 6 bands x 128 x 128
float32, ~1.6 GB), so the whole model input fits in memory. Reading each file
once and normalising once makes an epoch a pure tensor operation, which is
faster than decoding GeoTIFFs in every ``__getitem__`` (see
``benchmarks/training_throughput.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cocoa_threat.geo.raster import Raster, pad_to

logger = logging.getLogger(__name__)


@dataclass
class SplitArrays:
    """Images and labels of one split, stacked."""

    images: np.ndarray  # (N, C, H, W) float32, normalised, nodata -> 0
    labels: np.ndarray  # (N, H, W) uint8, ignore index where no label
    samples: list[str]
    years: np.ndarray  # (N,)
    blocks: np.ndarray | None = None  # (N,) spatial block of each patch (the sampling unit)
    strata: np.ndarray | None = None  # (N,) stratum of its block (the sample design)
    weights: np.ndarray | None = None  # (N,) design weight of its block (test split)

    def __len__(self) -> int:
        return len(self.samples)


@dataclass
class TrainingData:
    """Normalised arrays of every split plus what is needed to rebuild the input."""

    splits: dict[str, SplitArrays]
    bands: list[str]
    means: list[float]
    stds: list[float]
    class_names: list[str]
    ignore_index: int
    image_nodata: float
    split_hash: str = ""

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def input_config(self) -> dict[str, Any]:
        """What every model's build config records of its input: bands, normalisation,
        classes, nodata and the split it was trained on."""
        return {
            "bands": self.bands,
            "means": self.means,
            "stds": self.stds,
            "class_names": self.class_names,
            "ignore_index": self.ignore_index,
            "image_nodata": self.image_nodata,
            "split_hash": self.split_hash,
        }


def normalise(
    images: np.ndarray, means: list[float], stds: list[float], nodata: float
) -> np.ndarray:
    """Standardise bands with the training statistics; nodata becomes 0 (the mean).

    Args:
        images: (..., C, H, W) raw values.
        means: Per-band means.
        stds: Per-band standard deviations.
        nodata: The image nodata value.

    Returns:
        float32 array of the same shape.
    """
    x = images.astype(np.float32, copy=True)
    invalid = ~np.isfinite(x) | (x == nodata)
    mean = np.asarray(means, np.float32).reshape(-1, 1, 1)
    std = np.asarray(stds, np.float32).reshape(-1, 1, 1)
    x -= mean
    x /= std
    x[invalid] = 0.0
    return x


def load_training_data(
    model_input: Mapping[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    band_stats: dict[str, list[float]],
    class_names: list[str],
    ignore_index: int,
    image_nodata: float,
    splits: tuple[str, ...] = ("train", "val", "test"),
) -> TrainingData:
    """Read every model-input pair once, pad to one size and normalise.

    Args:
        model_input: Partition loaders from the catalog (``<split>/<sample>_img|_lbl``).
        tile_manifest: The ingestion manifest.
        band_stats: Training-split band statistics (bands, means, stds).
        class_names: Class names (index = class code).
        ignore_index: Label value of pixels without a label.
        image_nodata: Image nodata value.
        splits: Which splits to load.

    Returns:
        The :class:`TrainingData`.
    """
    out = {
        split: _load_split(
            model_input, tile_manifest, split, band_stats, ignore_index, image_nodata
        )
        for split in splits
    }
    return TrainingData(
        splits=out,
        bands=list(band_stats["bands"]),
        means=list(band_stats["means"]),
        stds=list(band_stats["stds"]),
        class_names=list(class_names),
        ignore_index=ignore_index,
        image_nodata=image_nodata,
    )


def _load_split(
    model_input: Mapping[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    split: str,
    band_stats: dict[str, list[float]],
    ignore_index: int,
    image_nodata: float,
) -> SplitArrays:
    """Read, pad (to the split's largest patch) and normalise the patches of one split.

    Raises:
        ValueError: The manifest has no tile of ``split``, or the patches' bands
            do not match ``band_stats``.
        KeyError: A patch of the manifest is not in ``model_input``.
    """
    rows = tile_manifest[tile_manifest["split"] == split]
    if rows.empty:
        raise ValueError(
            f"The tile manifest has no '{split}' tiles; re-run the ingestion pipeline "
            f"or check ingestion.split.fractions"
        )
    size = (int(rows["height"].max()), int(rows["width"].max()))
    images, labels = [], []
    for sample in rows["sample"]:
        key = f"{split}/{sample}"
        try:
            img, lbl = model_input[f"{key}_img"](), model_input[f"{key}_lbl"]()
        except KeyError as exc:
            raise KeyError(
                f"model_input has no partition {exc}; re-run the ingestion pipeline"
            ) from None
        images.append(pad_to(img.data, size, image_nodata))
        labels.append(pad_to(lbl.data[0], size, ignore_index))
    stack = np.stack(images)
    if stack.shape[1] != len(band_stats["means"]):
        raise ValueError(
            f"model input has {stack.shape[1]} bands but band_stats has "
            f"{len(band_stats['means'])}; re-run the ingestion pipeline"
        )
    arrays = SplitArrays(
        images=normalise(stack, band_stats["means"], band_stats["stds"], image_nodata),
        labels=np.stack(labels).astype(np.uint8),
        samples=rows["sample"].tolist(),
        years=rows["year"].to_numpy(),
        blocks=rows["block"].astype(str).to_numpy() if "block" in rows else None,
        strata=rows["stratum"].astype(str).to_numpy() if "stratum" in rows else None,
        weights=rows["design_weight"].to_numpy(float) if "design_weight" in rows else None,
    )
    logger.info("Loaded %d %s patches of %s", len(rows), split, stack.shape[1:])
    return arrays


def _mix(*values: int) -> int:
    """A 63-bit seed from several integers (stable across runs and platforms)."""
    out = 0x9E3779B97F4A7C15
    for v in values:
        out = (out ^ (v + 0x9E3779B97F4A7C15 + (out << 6) + (out >> 2))) & (2**63 - 1)
    return out


class EpochShuffleSampler(Sampler):
    """A permutation per epoch drawn from (seed, epoch), yielding ``(index, epoch)``.

    Lightning calls :meth:`set_epoch` before each epoch, so the order (and, through
    the epoch that goes with each index, the augmentation) of epoch ``e`` is the
    same in a run resumed at ``e`` as in one that never stopped.
    """

    def __init__(self, n: int, seed: int) -> None:
        """Shuffle ``n`` items."""
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch about to start."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        generator = torch.Generator().manual_seed(_mix(self.seed, self.epoch))
        for index in torch.randperm(self.n, generator=generator).tolist():
            yield index, self.epoch


class ArraySegmentationDataset(Dataset):
    """A map-style dataset over in-memory tensors, with optional flips and 90° rotations."""

    def __init__(self, split: SplitArrays, augment: bool = False, seed: int = 0) -> None:
        """Wrap one split.

        Args:
            split: The arrays.
            augment: Random horizontal/vertical flips and 90° rotations.
            seed: Seed of the augmentation (each draw comes from seed, epoch and index).
        """
        self.images = torch.from_numpy(np.ascontiguousarray(split.images))
        self.labels = torch.from_numpy(split.labels.astype(np.int64))
        self.augment = augment
        self.seed = seed

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        image, mask = self.images[index], self.labels[index]
        if self.augment:
            generator = torch.Generator().manual_seed(_mix(self.seed, epoch, index))
            flip_h, flip_v, rot = torch.randint(0, 4, (3,), generator=generator).tolist()
            if flip_h % 2:
                image, mask = image.flip(-1), mask.flip(-1)
            if flip_v % 2:
                image, mask = image.flip(-2), mask.flip(-2)
            if rot:
                image, mask = image.rot90(rot, (-2, -1)), mask.rot90(rot, (-2, -1))
        return {"image": image.contiguous(), "mask": mask.contiguous()}


class InMemorySegmentationDataModule(L.LightningDataModule):
    """Lightning data module over :class:`TrainingData` (no file I/O per batch)."""

    def __init__(
        self,
        data: TrainingData,
        batch_size: int,
        num_workers: int = 0,
        augment: bool = True,
        seed: int = 0,
    ) -> None:
        """Create the data module.

        Args:
            data: Normalised arrays of the splits.
            batch_size: Batch size of every loader.
            num_workers: DataLoader workers (0 is usually fastest for in-memory data).
            augment: Flips and 90° rotations on the training split.
            seed: Augmentation seed.
        """
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.augment = augment
        self.seed = seed

    def _loader(self, split: str, shuffle: bool, augment: bool) -> DataLoader:
        dataset = ArraySegmentationDataset(self.data.splits[split], augment=augment, seed=self.seed)
        sampler = EpochShuffleSampler(len(dataset), self.seed) if shuffle else None
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
            # Its own generator: creating a loader never draws from the global one.
            generator=torch.Generator().manual_seed(self.seed),
        )

    def train_dataloader(self) -> DataLoader:
        """Shuffled, augmented training batches."""
        return self._loader("train", shuffle=True, augment=self.augment)

    def val_dataloader(self) -> DataLoader:
        """Validation batches (used for early stopping and checkpoint selection)."""
        return self._loader("val", shuffle=False, augment=False)

    def test_dataloader(self) -> DataLoader:
        """Test batches (used once, after training)."""
        return self._loader("test", shuffle=False, augment=False)
