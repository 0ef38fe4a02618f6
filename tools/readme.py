"""Refresh the README's demo results from ``data/08_reporting/model_comparison.md``.

``make readme`` (or ``python -m tools.readme``) after ``make demo``
replaces the text between the two markers below with the current table.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

START = "<!-- demo-results:start -->"
END = "<!-- demo-results:end -->"
CAVEAT = (
    "These figures come from the **synthetic demo region** (test split only, tiles never "
    "seen in training or model selection). They show that the pipeline learns; they say "
    "nothing about real mining or cocoa in Ghana. `majority_class` predicts the most "
    "frequent class everywhere."
)


def replace_section(readme: str, table_md: str) -> str:
    """Return ``readme`` with the marked section replaced by the table and caveat.

    Raises:
        ValueError: If the markers are missing or out of order.
    """
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README needs the markers {START} and {END}, in that order")
    body = f"{START}\n{CAVEAT}\n\n{table_md.strip()}\n{END}"
    return readme[:start] + body + readme[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    """Update README.md in the current folder from the reporting table."""
    args = argv if argv is not None else sys.argv[1:]
    table = Path(args[0] if args else "data/08_reporting/model_comparison.md")
    readme = Path(args[1] if len(args) > 1 else "README.md")
    if not table.is_file():
        logger.error("%s is missing: run `kedro run --pipeline=training` first", table)
        return 1
    readme.write_text(replace_section(readme.read_text(), table.read_text()))
    logger.info("Updated %s from %s", readme, table)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
