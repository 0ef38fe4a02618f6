"""Generate ``docs/parameters.md`` from ``conf/base/parameters*.yml`` (``make docs``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

HEADER = """# Parameter reference

Generated from `conf/base/parameters*.yml` by `make docs` (do not edit by hand). Every
parameter of every pipeline, with the comments that give its meaning and source. An
environment such as `conf/smallminesds/` overrides single keys (deep merge). Every block
is checked before the first node of a run (`cocoa_threat.hooks.ParameterCheckHook`).
"""


# Blocks that no single pipeline owns: who reads them.
SHARED_BLOCKS = {"compute": "Every pipeline that processes rasters window by window"}


def parameters_markdown(conf_dir: Path) -> str:
    """The reference page: one section per pipeline with its YAML, comments included."""
    parts = [HEADER]
    shared = conf_dir / "parameters.yml"
    if shared.is_file():
        parts.append(
            "\n## shared\n\nEvery pipeline reads `parameters.yml` (the land-use scheme, "
            "the image dates):\n"
        )
        parts.append(f"```yaml\n{shared.read_text().rstrip()}\n```\n")
    for path in sorted(conf_dir.glob("parameters_*.yml")):
        name = path.stem.removeprefix("parameters_")
        reader = SHARED_BLOCKS.get(name, f"`kedro run --pipeline={name}`")
        parts.append(f"\n## {name}\n\n{reader} reads `{path.name}`:\n")
        parts.append(f"```yaml\n{path.read_text().rstrip()}\n```\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write the page (arguments: conf dir, output file)."""
    args = argv if argv is not None else sys.argv[1:]
    conf = Path(args[0] if args else "conf/base")
    out = Path(args[1] if len(args) > 1 else "docs/parameters.md")
    out.write_text(parameters_markdown(conf))
    logger.info("Wrote %s", out)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
