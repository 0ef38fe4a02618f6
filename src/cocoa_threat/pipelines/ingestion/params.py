"""Validated parameters of the ingestion pipeline (``ingestion`` in conf)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from cocoa_threat.demo.region import DemoRegionConfig
from cocoa_threat.params import LandUse, StrictModel, parse_params
from cocoa_threat.smallminesds.spec import (
    FileNaming,
    HuggingFaceSource,
    LabelSpec,
    RasterSpec,
    SplitSpec,
)


class IngestionParams(StrictModel):
    """All of ``ingestion``."""

    source: Literal["synthetic", "local", "huggingface"] = "synthetic"
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
        self.band_indices()  # raises on unknown band names
        if self.source == "synthetic":
            missing = [y for y in self.years if y not in self.synthetic.years]
            if missing:
                raise ValueError(
                    f"ingestion.years {missing} are not in ingestion.synthetic.years "
                    f"{self.synthetic.years}"
                )
            layout = self.synthetic.mask_layout
            if layout != self.labels.mask_format:
                raise ValueError(
                    f"ingestion.labels.mask_format is {self.labels.mask_format} but the demo "
                    f"writes {layout} masks (ingestion.synthetic.mask_layout); set both alike"
                )
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


def ingestion_params(params: dict[str, Any] | IngestionParams) -> IngestionParams:
    """Validate the ``ingestion`` parameters."""
    return parse_params(IngestionParams, params, "ingestion")


def checked_params(
    params: dict[str, Any] | IngestionParams, land_use: dict[str, Any] | LandUse
) -> tuple[IngestionParams, LandUse]:
    """Validate ``ingestion`` and ``land_use`` and check they agree."""
    from cocoa_threat.errors import ParameterError
    from cocoa_threat.params import land_use_params

    p, lu = ingestion_params(params), land_use_params(land_use)
    try:
        p.check_land_use(lu)
    except ValueError as exc:
        raise ParameterError(f"Invalid parameters (fix them in conf/):\n  - {exc}") from None
    return p, lu
