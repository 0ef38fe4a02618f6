"""What the whole study shares (conf/base/parameters.yml): the image dates (``before``,
``after``) and the confidence level of its intervals (``intervals``)."""

from __future__ import annotations

from pydantic import Field

from cocoa_threat.params.base import Block, StrictModel


class PeriodParams(StrictModel):
    """``before`` / ``after``: the year of an image date (the inference namespaces)."""

    year: int = Field(ge=1984, le=2100)


class IntervalParams(Block):
    """``intervals``: the confidence level every interval of the study refers to."""

    conf_key = "intervals"

    confidence: float = Field(0.95, gt=0, lt=1)
