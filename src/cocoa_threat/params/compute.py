"""Compute: where windowed raster work runs (``compute`` in parameters_compute.yml).

One block for every stage that processes rasters window by window (inference,
transition, zonal tables, risk, mercury exposure): in the Kedro process, or on a
Dask cluster (a ``LocalCluster`` started here, or an existing scheduler). See
:mod:`cocoa_threat.geo.compute` and ``docs/scaling.md``.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from cocoa_threat.params.base import Block, StrictModel


class DaskSpec(StrictModel):
    """Run the windows on Dask (``compute.dask``)."""

    enabled: bool = Field(False, description="Process windows on Dask instead of this process.")
    scheduler_address: str | None = Field(
        None, description="An existing scheduler (tcp://host:8786); null: a LocalCluster here."
    )
    n_workers: int = Field(2, ge=1, le=1024, description="LocalCluster worker processes.")
    threads_per_worker: int = Field(1, ge=1, le=256, description="LocalCluster threads each.")
    max_in_flight: int = Field(
        8, ge=1, le=4096, description="Windows on the cluster at once (bounds memory)."
    )

    @field_validator("scheduler_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError(
                f"{value!r} is not a scheduler address; give e.g. tcp://scheduler:8786, "
                f"or null for a LocalCluster on this machine"
            )
        return value


class ComputeParams(Block):
    """All of ``compute``."""

    conf_key = "compute"

    dask: DaskSpec = Field(default_factory=DaskSpec)
