"""Validation of parameter blocks from ``conf/`` with pydantic models.

Every schema derives from :class:`StrictModel` (unknown keys are errors), and
:func:`parse_params` turns pydantic's errors into one message that names each
offending key in full (e.g. ``risk.weights.mercury``), so a typo is fixed in
one go. :class:`LandUse` is the one land-use scheme every pipeline refers to
(``land_use`` in ``conf/base/parameters.yml``).
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from matplotlib.colors import to_rgba
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cocoa_threat.errors import ParameterError


def non_finite_keys(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """The dotted keys under ``value`` that hold NaN or an infinity (any depth)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [".".join(path)]
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in non_finite_keys(v, (*path, str(key)))]
    if isinstance(value, list | tuple):
        return [k for i, v in enumerate(value) for k in non_finite_keys(v, (*path, str(i)))]
    return []


class StrictModel(BaseModel):
    """Base of every parameter schema.

    Unknown keys are errors, values are checked on assignment, and every number
    is finite: NaN and infinities are refused at any depth, also inside free-form
    blocks (e.g. a model's ``model_args``).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _finite(cls, data: Any) -> Any:
        bad = non_finite_keys(data) if isinstance(data, dict) else []
        if bad:
            raise ValueError(
                f"{', '.join(bad)}: not a finite number (NaN and infinities are not "
                f"allowed; give a real number)"
            )
        return data


M = TypeVar("M", bound=BaseModel)


def parse_params(
    model: type[M],
    params: dict[str, Any] | BaseModel,
    prefix: str,
    drop_loc: set[str] | None = None,
) -> M:
    """Validate a parameter block, naming the offending keys on failure.

    Args:
        model: The pydantic model of the block.
        params: The block as loaded from conf (or an already validated model).
        prefix: The block's key in conf, e.g. ``"ingestion"``.
        drop_loc: Error-location parts that are not conf keys (union tags).

    Returns:
        The validated model.

    Raises:
        ParameterError: With one line per problem, each naming the full key.
    """
    if isinstance(params, model):
        return params
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            parts = [str(p) for p in err["loc"] if str(p) not in (drop_loc or set())]
            key = ".".join([prefix, *parts])
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  - {key}: {msg}")
        raise ParameterError(
            f"Invalid parameters under '{prefix}' (fix them in conf/):\n" + "\n".join(lines)
        ) from None


class LandUse(StrictModel):
    """The land-use scheme of every class raster of the project (``land_use``).

    A class's code is its position in ``classes``; ``nodata`` marks pixels with
    no data or no label in every class raster (it is also the ignore index of
    training). A two-class study (no cocoa layer) has ``classes: [background,
    mining]`` and ``cocoa_class: null``.
    """

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


def land_use_params(params: dict[str, Any] | LandUse) -> LandUse:
    """Validate the ``land_use`` parameters."""
    return parse_params(LandUse, params, "land_use")


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
