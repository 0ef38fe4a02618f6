"""Refresh the README's generated sections: the pipelines and the demo results.

``python -m tools.readme --pipelines`` rewrites the table of the registered
pipelines and the commands that run them (between ``<!-- pipelines:start -->`` and
``<!-- pipelines:end -->``) from each pipeline package's docstring and the
catalog; ``tests/rendering/test_readme.py`` fails when the README differs from it.
``make readme`` (or ``python -m tools.readme``) after ``make demo`` also replaces
the demo results (between ``<!-- demo-results:start -->`` and
``<!-- demo-results:end -->``) with ``data/08_reporting/model_comparison.md``.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

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


# ---- the pipelines table and the commands, from the registry and the catalog ----------

PIPELINES_START = "<!-- pipelines:start -->"
PIPELINES_END = "<!-- pipelines:end -->"
REFRESH = "python -m tools.readme --pipelines"
# Registered pipelines that are not a package of their own: the function that builds them
# (in cocoa_threat.pipelines); its docstring says what they do.
VARIANTS = {
    "comparison": "training.comparison_pipeline",
    "scene_inference": "inference.create_scene_pipeline",
}


def _summary(doc: str | None, where: str) -> str:
    """The first paragraph of a docstring, on one line, ``Name:`` prefix dropped, Markdown code."""
    if not doc or not doc.strip():
        raise ValueError(f"{where} has no docstring: say in one sentence what the pipeline does")
    first = " ".join(doc.strip().split("\n\n")[0].split())
    first = re.sub(r"^[A-Z][\w ]*: ", "", first).replace("``", "`")
    return first[:1].upper() + first[1:]


def describe(name: str) -> str:
    """What a registered pipeline does: its package's docstring (or its builder's, VARIANTS)."""
    if name in VARIANTS:
        module, function = VARIANTS[name].rsplit(".", 1)
        package = importlib.import_module(f"cocoa_threat.pipelines.{module}")
        return _summary(getattr(package, function).__doc__, f"{module}.{function}")
    try:
        package = importlib.import_module(f"cocoa_threat.pipelines.{name}")
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"The registered pipeline {name!r} has no package cocoa_threat.pipelines.{name}; "
            "add the function that builds it to VARIANTS in tools/readme.py"
        ) from exc
    return _summary(package.__doc__, f"cocoa_threat/pipelines/{name}/__init__.py")


def own_nodes(name: str, pipeline: Any) -> Any:
    """The nodes of a registered pipeline in its own namespace (not those it runs first)."""
    own = [n for n in pipeline.nodes if (n.namespace or "").split(".")[0] == name]
    return type(pipeline)(own) if own else pipeline


def catalog_files(outputs: set[str], catalog: dict[str, Any]) -> list[str]:
    """The files (or folders) of the catalog entries among ``outputs``, in catalog order.

    Only what a node writes: inputs and in-memory datasets are left out.

    An entry of a pattern (``{model}.metrics``) is shown once, with its placeholder.
    """
    from kedro.io.catalog_config_resolver import CatalogConfigResolver

    resolver = CatalogConfigResolver(catalog)
    keys = set()
    for name in outputs:
        key = name if name in catalog else resolver.match_dataset_pattern(name)
        if key is not None:
            keys.add(key)
    files = []
    for key, entry in catalog.items():
        path = entry.get("filepath") or entry.get("path") if isinstance(entry, dict) else None
        if key in keys and path and f"`{path}`" not in files:
            files.append(f"`{path}`")
    return files


def _base_catalog(root: Path) -> dict[str, Any]:
    from kedro.config import OmegaConfigLoader

    from cocoa_threat.conf import MERGE_STRATEGY

    loader = OmegaConfigLoader(
        str(root / "conf"), base_env="base", default_run_env="base", merge_strategy=MERGE_STRATEGY
    )
    return dict(loader["catalog"])


def pipelines_section(root: Path = ROOT) -> str:
    """The table of the registered pipelines and the commands that run them (Markdown).

    The pipelines as ``register_pipelines()`` builds them with the project's default
    conf; their outputs from ``conf/base/catalog.yml``.
    """
    from kedro.framework.project import configure_project

    configure_project("cocoa_threat")
    from cocoa_threat.pipeline_registry import ACQUISITION, register_pipelines

    pipelines = register_pipelines()
    catalog = _base_catalog(root)
    default = {n.name for n in pipelines["__default__"].nodes}
    rows = [
        "| run | in `kedro run` | what it does | files it writes (`conf/base` paths) |",
        "|---|---|---|---|",
    ]
    for name, pipeline in pipelines.items():
        if name == "__default__":
            continue
        own = own_nodes(name, pipeline)
        files = catalog_files({o for n in own.nodes for o in n.outputs}, catalog)
        in_default = "yes" if {n.name for n in own.nodes} <= default else "no"
        rows.append(
            f"| `kedro run --pipeline={name}` | {in_default} | {describe(name)} "
            f"| {', '.join(files) or '(none: in memory)'} |"
        )
    groups = sorted({n.namespace for n in pipelines["__default__"].nodes if n.namespace})
    parts = [g for g in groups if "." in g]
    example = "training.resnet50" if "training.resnet50" in parts else parts[0]
    commands = [
        "```bash",
        "kedro run                                # the default run: the pipelines marked yes",
        "kedro run --pipeline=<name>              # one pipeline of the table",
        f"kedro run --namespaces={example}  # only these nodes; namespaces: {', '.join(parts)}",
        "kedro run --pipeline=comparison          # then compare every model whose metrics exist",
        "```",
    ]
    acquired = ", ".join(
        f"`{run}` for `{source}`" if run else f"none for `{source}`"
        for source, run in ACQUISITION.items()
    )
    note = (
        "Every pipeline's nodes are in a namespace of its name (kedro viz shows one group each). "
        f"The default run starts with the acquisition pipeline of `ingestion.source` ({acquired}); "
        "so do "
        "`--pipeline=ingestion` and `--pipeline=training`. The table's files are those of "
        "`conf/base/catalog.yml`; generated by `tools/readme.py` from each pipeline "
        f"package's docstring and the catalog (`{REFRESH}`)."
    )
    return "\n".join([*commands, "", *rows, "", note])


def replace_pipelines(readme: str, section: str) -> str:
    """Return ``readme`` with the text between the pipelines markers replaced by ``section``.

    Raises:
        ValueError: If the markers are missing or out of order.
    """
    start, end = readme.find(PIPELINES_START), readme.find(PIPELINES_END)
    if start < 0 or end < start:
        raise ValueError(
            f"README needs the markers {PIPELINES_START} and {PIPELINES_END}, in that order"
        )
    body = f"{PIPELINES_START}\n{section.strip()}\n{PIPELINES_END}"
    return readme[:start] + body + readme[end + len(PIPELINES_END) :]


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Update the README: the pipelines, then (unless ``--pipelines``) the demo results.

    Arguments: ``[--pipelines] [table] [readme]`` (defaults:
    ``data/08_reporting/model_comparison.md`` and ``README.md``).
    """
    argv = argv if argv is not None else sys.argv[1:]
    args = [a for a in argv if a != "--pipelines"]
    table = Path(args[0] if args else "data/08_reporting/model_comparison.md")
    readme = Path(args[1] if len(args) > 1 else "README.md")
    _write(readme, replace_pipelines(readme.read_text(), pipelines_section()))
    logger.info("Updated the pipelines of %s", readme)
    if "--pipelines" in argv:
        return 0
    if not table.is_file():
        logger.error("%s is missing: run `kedro run --pipeline=training` first", table)
        return 1
    _write(readme, replace_section(readme.read_text(), table.read_text()))
    logger.info("Updated %s from %s", readme, table)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
