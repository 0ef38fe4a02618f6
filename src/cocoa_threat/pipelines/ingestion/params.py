"""Validated parameters of the ingestion pipeline (``ingestion`` in conf)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cocoa_threat.demo.region import DemoRegionConfig
from cocoa_threat.params import parse_params


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HuggingFaceSource(_Strict):
    """Where and how to download SmallMinesDS from the Hugging Face Hub."""

    repo_id: str = "ellaampy/SmallMinesDS"
    repo_type: Literal["dataset"] = "dataset"
    revision: str = "main"
    cache_dir: str = "data/01_raw/huggingface"
    extract_dir: str = "data/01_raw/SmallMinesDS"


class FileNaming(_Strict):
    """How images and masks are named and where they sit under ``<root>/<year>/``."""

    image_dir: str = "IMAGE"
    mask_dir: str = "MASK"
    image_pattern: str = r"^IMG_(?:GH_)?(?P<tile>\d+)_(?P<year>\d{4})\.tif$"
    mask_pattern: str = r"^MASK_(?:GH_)?(?P<tile>\d+)_(?P<year>\d{4})\.tif$"
    on_orphan: Literal["error", "skip"] = "error"

    @field_validator("image_pattern", "mask_pattern")
    @classmethod
    def _has_groups(cls, value: str) -> str:
        compiled = re.compile(value)
        if not {"tile", "year"} <= set(compiled.groupindex):
            raise ValueError("needs the named groups (?P<tile>...) and (?P<year>...)")
        return value


class RasterSpec(_Strict):
    """What every raw tile must look like."""

    band_names: list[str] = Field(min_length=1)
    band_aliases: dict[str, str] = Field(default_factory=dict)
    crs: str | None = None
    pixel_size: float = Field(10.0, gt=0)
    image_nodata: float = -9999.0
    mask_nodata: float = 255.0
    tile_size: int = Field(128, gt=0)
    edge_tiles: Literal["pad", "skip", "keep"] = "pad"


class LabelSpec(_Strict):
    """How 3-class labels are built from the masks."""

    mask_format: Literal["mining_cocoa", "class_map"] = "mining_cocoa"
    classes: list[str] = Field(default_factory=lambda: ["background", "mining", "cocoa"])
    cocoa_threshold: float = Field(0.65, ge=0, le=1)
    class_values: dict[int, int] = Field(default_factory=dict)
    ignore_index: int = Field(255, ge=0, le=255)

    @model_validator(mode="after")
    def _check(self) -> LabelSpec:
        if self.classes[:3] != ["background", "mining", "cocoa"]:
            raise ValueError(
                "ingestion.labels.classes must start with background, mining, cocoa "
                "(class codes 0, 1, 2)"
            )
        if self.mask_format == "class_map" and not self.class_values:
            raise ValueError(
                "ingestion.labels.class_values must map mask values to class codes "
                "when mask_format is class_map"
            )
        bad = [v for v in self.class_values.values() if not 0 <= v < len(self.classes)]
        if bad:
            raise ValueError(f"ingestion.labels.class_values has unknown class codes {bad}")
        return self


class SplitSpec(_Strict):
    """Tile-level, spatially blocked, stratified train/val/test split."""

    method: Literal["blocked", "published"] = "blocked"
    block_size: int = Field(2, ge=1, description="Blocks of k x k neighbouring tiles.")
    fractions: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.7, "val": 0.15, "test": 0.15}
    )
    seed: int = 42
    published_csv: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> SplitSpec:
        if set(self.fractions) != {"train", "val", "test"}:
            raise ValueError("ingestion.split.fractions needs exactly train, val and test")
        if (
            any(v < 0 for v in self.fractions.values())
            or abs(sum(self.fractions.values()) - 1.0) > 1e-6
        ):
            raise ValueError(
                f"ingestion.split.fractions must be >= 0 and sum to 1, got {self.fractions}"
            )
        if self.fractions["train"] <= 0 or self.fractions["test"] <= 0:
            raise ValueError("ingestion.split.fractions: train and test must be > 0")
        if self.method == "published" and not self.published_csv:
            raise ValueError(
                "ingestion.split.published_csv must give one CSV per year when "
                "ingestion.split.method is published"
            )
        return self


class IngestionParams(_Strict):
    """All of ``ingestion``."""

    source: Literal["synthetic", "local", "huggingface"] = "synthetic"
    local_path: str | None = None
    years: list[int] = Field(min_length=1)
    huggingface: HuggingFaceSource = Field(default_factory=HuggingFaceSource)
    synthetic: DemoRegionConfig
    files: FileNaming = Field(default_factory=FileNaming)
    raster: RasterSpec
    bands: list[str] = Field(min_length=1)
    labels: LabelSpec = Field(default_factory=LabelSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    model_input_dir: str

    @model_validator(mode="after")
    def _check(self) -> IngestionParams:
        if self.source == "local" and not self.local_path:
            raise ValueError(
                "ingestion.local_path must point at a SmallMinesDS folder when "
                "ingestion.source is local"
            )
        self.band_indices()  # raises on unknown band names
        if self.split.method == "published":
            missing = [y for y in self.years if y not in self.split.published_csv]
            if missing:
                raise ValueError(f"ingestion.split.published_csv has no CSV for years {missing}")
        return self

    def band_indices(self) -> list[int]:
        """0-based indexes in the raw files of the selected ``bands``."""
        names = self.raster.band_names
        out = []
        for band in self.bands:
            name = self.raster.band_aliases.get(band, band)
            if name not in names:
                raise ValueError(
                    f"ingestion.bands: unknown band {band!r}; use a name from "
                    f"ingestion.raster.band_names {names} or a key of "
                    f"ingestion.raster.band_aliases {sorted(self.raster.band_aliases)}"
                )
            out.append(names.index(name))
        return out


def ingestion_params(params: dict[str, Any]) -> IngestionParams:
    """Validate the ``ingestion`` parameters."""
    return parse_params(IngestionParams, params, "ingestion")
