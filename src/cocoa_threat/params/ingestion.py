"""Ingestion: what the raw SmallMinesDS data looks like, and how labels and splits are made
(``ingestion`` in conf/base/parameters_ingestion.yml)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from cocoa_threat.params.base import Block, StrictModel
from cocoa_threat.params.land_use import LandUse


class HuggingFaceSource(StrictModel):
    """Where and how to download SmallMinesDS from the Hugging Face Hub."""

    repo_id: str = "ellaampy/SmallMinesDS"
    repo_type: Literal["dataset"] = "dataset"
    revision: str = Field(
        "main", description="A commit hash pins the data; a branch name follows the card."
    )
    cache_dir: str = Field(
        "data/01_raw/.huggingface_cache",
        description="Download cache (partial downloads resume from here).",
    )


class FileNaming(StrictModel):
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


class RasterSpec(StrictModel):
    """What every raw tile must look like."""

    band_names: list[str] = Field(min_length=1)
    band_aliases: dict[str, str] = Field(default_factory=dict)
    dem_band: str = Field("DEM", description="The elevation band, copied into the model input.")
    crs: str | None = None
    pixel_size: float = Field(10.0, gt=0)
    image_nodata: float = -9999.0
    mask_nodata: float = Field(255.0, description="Used where a mask file declares no nodata.")
    tile_size: int = Field(128, gt=0)
    edge_tiles: Literal["pad", "skip", "keep"] = "pad"

    @model_validator(mode="after")
    def _check(self) -> RasterSpec:
        if self.dem_band not in self.band_names:
            raise ValueError(
                f"ingestion.raster.dem_band {self.dem_band!r} is not in "
                f"ingestion.raster.band_names {self.band_names}"
            )
        return self


class CocoaSource(StrictModel):
    """Where the cocoa class comes from (``ingestion.labels.cocoa``).

    ``raster``: a cocoa-probability layer of any CRS, extent and resolution
    (e.g. the Kalischek et al. 2023 map), reprojected onto every tile;
    ``mask_band``: band 2 of 2-band masks; ``none``: a two-class study.
    """

    source: Literal["raster", "mask_band", "none"] = "raster"
    scale: float = Field(1.0, gt=0, description="raw value / scale = probability.")
    resampling: Literal["nearest", "bilinear", "cubic", "average"] = "bilinear"
    on_missing: Literal["error", "ignore"] = Field(
        "error", description="Tiles the layer does not cover: error, or no cocoa label there."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_path(cls, data: Any) -> Any:
        if isinstance(data, dict) and "path" in data:
            raise ValueError(
                "path is not a parameter: the layer is the catalog entry cocoa_layer_raw; "
                "set raw.cocoa_layer in conf/<env>/globals.yml instead"
            )
        return data


class LabelSpec(StrictModel):
    """How the study's labels are built from the masks and the cocoa source."""

    mask_format: Literal["mining", "mining_cocoa", "class_map"] = "mining"
    cocoa_threshold: float = Field(0.65, ge=0, le=1)
    class_values: dict[int, int] = Field(default_factory=dict)
    cocoa: CocoaSource = Field(default_factory=CocoaSource)

    @model_validator(mode="after")
    def _check(self) -> LabelSpec:
        fmt, src = self.mask_format, self.cocoa.source
        if fmt == "mining" and src == "mask_band":
            raise ValueError(
                "ingestion.labels.cocoa.source is mask_band but 1-band mining masks "
                "(mask_format: mining) have no cocoa band: use source: raster with a "
                "cocoa-probability layer, or none for a two-class study"
            )
        if fmt == "class_map" and src == "raster":
            raise ValueError(
                "ingestion.labels.cocoa.source: raster can't be combined with "
                "mask_format: class_map (the class map has its own classes); use "
                "mask_band (cocoa is in the map) or none"
            )
        if fmt == "class_map" and not self.class_values:
            raise ValueError(
                "ingestion.labels.class_values must map mask values to class codes "
                "when mask_format is class_map"
            )
        return self


class StrataSpec(StrictModel):
    """Strata of the blocks' stratified random sample (``ingestion.split.strata``)."""

    covariate: Literal["first_year_mining"] = Field(
        "first_year_mining",
        description="Stratify by the blocks' mining share in the first year's masks.",
    )
    n_strata: int = Field(2, ge=1, description="Strata of equal size by the covariate.")
    min_test_blocks: int = Field(
        2,
        ge=1,
        description="Fewest test blocks in every stratum: 2 for a variance (1 only for tiny "
        "test regions, which then get no intervals).",
    )
    oversample: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = Field(
        None,
        description="Relative test sampling rate of each stratum, lowest mining first "
        "(null: proportional, the same rate everywhere).",
    )

    @model_validator(mode="after")
    def _check(self) -> StrataSpec:
        if self.oversample is not None and len(self.oversample) != self.n_strata:
            raise ValueError(
                f"ingestion.split.strata.oversample has {len(self.oversample)} rates but "
                f"n_strata is {self.n_strata}: give one rate per stratum, or null"
            )
        return self

    def rates(self, n_strata: int) -> list[float]:
        """The relative test sampling rate of every stratum."""
        return list(self.oversample) if self.oversample is not None else [1.0] * n_strata


class SplitSpec(StrictModel):
    """Tile-level, spatially blocked train/val/test split, a stratified random sample of blocks."""

    method: Literal["blocked", "published"] = "blocked"
    block_size: int = Field(2, ge=1, description="Blocks of k x k neighbouring tiles.")
    fractions: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=lambda: {"train": 0.7, "val": 0.15, "test": 0.15}
    )
    strata: StrataSpec = Field(default_factory=StrataSpec)
    seed: int = 42
    published_year_pattern: str = Field(
        r"(?P<year>\d{4})",
        description="Finds the year in the names of the published split files.",
    )

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
        if "year" not in re.compile(self.published_year_pattern).groupindex:
            raise ValueError("ingestion.split.published_year_pattern needs a (?P<year>...) group")
        return self


class IngestionParams(Block):
    """All of ``ingestion``."""

    conf_key = "ingestion"

    source: Literal["synthetic", "local", "huggingface"] = Field(
        "synthetic",
        description="synthetic: the demo pipeline writes the raw inputs; huggingface: the "
        "download pipeline; local: the files at the raw.* paths of globals.yml.",
    )
    years: list[int] = Field(min_length=1)
    huggingface: HuggingFaceSource = Field(default_factory=HuggingFaceSource)
    files: FileNaming = Field(default_factory=FileNaming)
    raster: RasterSpec
    bands: list[str] = Field(min_length=1)
    labels: LabelSpec = Field(default_factory=LabelSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    model_input_dir: str

    @model_validator(mode="after")
    def _check(self) -> IngestionParams:
        self.band_indices()  # raises on unknown band names
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

    def check_land_use(self, land_use: LandUse) -> None:
        """The cocoa source and the land-use classes must tell the same story."""
        no_cocoa = self.labels.cocoa.source == "none"
        if no_cocoa and land_use.cocoa_class is not None:
            raise ValueError(
                "ingestion.labels.cocoa.source is none (a two-class study) but "
                f"land_use.cocoa_class is {land_use.cocoa_class!r}: set land_use.classes to "
                "[background, mining] and land_use.cocoa_class: null, or give a cocoa source"
            )
        if not no_cocoa and land_use.cocoa_class is None:
            raise ValueError(
                f"ingestion.labels.cocoa.source is {self.labels.cocoa.source} but "
                f"land_use.cocoa_class is null: add cocoa to land_use.classes and set "
                f"land_use.cocoa_class, or set ingestion.labels.cocoa.source: none"
            )
        if self.labels.mask_format == "class_map":
            bad = [v for v in self.labels.class_values.values() if not 0 <= v < land_use.n_classes]
            if bad:
                raise ValueError(
                    f"ingestion.labels.class_values has codes {bad} outside land_use.classes "
                    f"{land_use.classes}"
                )
