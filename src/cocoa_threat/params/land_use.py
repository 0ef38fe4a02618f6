"""The one land-use scheme of every class raster (``land_use`` in ``conf/base/parameters.yml``)."""

from __future__ import annotations

from matplotlib.colors import to_rgba
from pydantic import Field, field_validator, model_validator

from cocoa_threat.errors import ParameterError
from cocoa_threat.params.base import Block


class LandUse(Block):
    """The land-use scheme of every class raster of the project (``land_use``).

    A class's code is its position in ``classes``; ``nodata`` marks pixels with
    no data or no label in every class raster (it is also the ignore index of
    training). A two-class study (no cocoa layer) has ``classes: [background,
    mining]`` and ``cocoa_class: null``.
    """

    conf_key = "land_use"

    classes: list[str] = Field(min_length=2, max_length=10)
    nodata: int = Field(255, ge=0, le=255)
    pixel_size: float = Field(10.0, gt=0, description="Pixel size of the maps (m).")
    colours: dict[str, str]
    mining_class: str = "mining"
    cocoa_class: str | None = "cocoa"

    @field_validator("colours")
    @classmethod
    def _colours(cls, value: dict[str, str]) -> dict[str, str]:
        for name, colour in value.items():
            try:
                to_rgba(colour)
            except ValueError:
                raise ValueError(f"{name}: {colour!r} is not a colour") from None
        return value

    @model_validator(mode="after")
    def _check(self) -> LandUse:
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"land_use.classes has duplicates: {self.classes}")
        if self.nodata < len(self.classes):
            raise ValueError("land_use.nodata must not be a class code")
        missing = [c for c in self.classes if c not in self.colours]
        if missing:
            raise ValueError(f"land_use.colours needs a colour for {missing}")
        if self.mining_class not in self.classes:
            raise ValueError(f"land_use.mining_class must be one of {self.classes}")
        if self.cocoa_class is not None and self.cocoa_class not in self.classes:
            raise ValueError(
                f"land_use.cocoa_class must be one of {self.classes}, or null for a two-class study"
            )
        return self

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def code(self, name: str) -> int:
        """The code of a class."""
        return self.classes.index(name)

    @property
    def mining(self) -> int:
        """Code of the mining class."""
        return self.code(self.mining_class)

    @property
    def cocoa(self) -> int | None:
        """Code of the cocoa class (None in a two-class study)."""
        return None if self.cocoa_class is None else self.code(self.cocoa_class)

    def colour_list(self) -> list[str]:
        """Colours in class-code order."""
        return [self.colours[c] for c in self.classes]

    def colormap(self) -> dict[int, tuple[int, int, int, int]]:
        """GeoTIFF colour table of a class map (nodata transparent)."""
        from cocoa_threat.geo.colours import colour_table

        return colour_table(dict(enumerate(self.colour_list())), self.nodata)


def require_cocoa(land_use: LandUse, what: str) -> int:
    """The cocoa class code, or a clear error for a two-class study.

    Args:
        land_use: The land-use scheme.
        what: What needs cocoa (e.g. ``the economics pipeline``), for the message.

    Raises:
        ParameterError: If the study has no cocoa class.
    """
    if land_use.cocoa is None:
        raise ParameterError(
            f"{what} needs a cocoa class, but this is a two-class study "
            f"(ingestion.labels.cocoa.source: none, land_use.cocoa_class: null). Give "
            f"ingestion.labels.cocoa a cocoa source (source: raster with a cocoa-probability "
            f"layer, or mask_band for 2-band masks) and add cocoa to land_use.classes, or "
            f"leave this pipeline out of the run."
        )
    return land_use.cocoa
