"""Sentinel-2 composites of any year and area from a STAC catalog.

:mod:`~cocoa_threat.imagery.search` finds scenes (a STAC API or a static
catalog), :mod:`~cocoa_threat.imagery.cache` keeps the windows of their assets
under the area, :mod:`~cocoa_threat.imagery.masking` and
:mod:`~cocoa_threat.imagery.harmonise` say which observations are clear and what
offset each scene carries, and :mod:`~cocoa_threat.imagery.composite` makes the
per-pixel median of clear observations window by window (odc-stac and Dask).
:mod:`~cocoa_threat.imagery.workflow` strings them together for the pipeline.
"""
