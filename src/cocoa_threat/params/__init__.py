"""Every parameter schema of conf/, one module per block.

Nodes receive typed blocks, never dicts to parse again: a node declares
``risk: RiskParams`` for its ``params:risk`` input, and Kedro builds the object
from conf once per run, before the first node (Kedro's parameter validation
from node type hints). :mod:`cocoa_threat.params.checks` adds what no single
block can check (unknown keys, agreement between blocks).

* :mod:`~cocoa_threat.params.base`: :class:`StrictModel` (unknown keys and
  non-finite numbers refused) and :class:`Block` (a top-level block; its errors
  name the full key);
* one module per block: ``land_use``, ``demo``, ``ingestion``, ``training``,
  ``inference``, ``study`` (``before``, ``after``, ``intervals``), ``transition``,
  ``economics``, ``mercury``, ``risk``, ``reporting``, ``imagery``.
"""

from cocoa_threat.params.base import Block, StrictModel, parse_params
from cocoa_threat.params.land_use import LandUse, require_cocoa

__all__ = ["Block", "LandUse", "StrictModel", "parse_params", "require_cocoa"]
