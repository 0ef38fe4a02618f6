"""The package picture of docs/architecture.md, drawn from the code's own imports.

    python tools/architecture.py            # check the layering, redraw the picture
    python tools/architecture.py --check    # check only (CI runs this through the tests)

Every package of ``src/cocoa_threat`` sits in one layer (``LAYERS``, top to
bottom). A package may import packages of its own layer or of the layers below,
never above, and packages never import each other in a circle; pipelines never
import other pipelines. The picture shows the layers, their packages with line
counts, and every import between packages.

The picture carries the digest of the graph it draws (the layers, their packages
and the imports; not the line counts, which change with every edit) in its PNG
text (``graph_sha256``) and in ``docs/images/architecture.json`` beside it, with
the graph itself. ``tests/project/test_architecture.py`` recomputes the graph from
the code and fails when the committed picture is stale.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cocoa_threat"
PICTURE = ROOT / "docs" / "images" / "architecture.png"
GRAPH = PICTURE.with_suffix(".json")
REFRESH = "python tools/architecture.py"

# Top to bottom. "pipelines" stands for every pipelines.<name>.
LAYERS: list[tuple[str, list[str]]] = [
    ("project wiring", ["__main__", "pipeline_registry", "settings", "hooks"]),
    ("pipelines (thin nodes)", ["pipelines"]),
    ("catalog I/O and presentation", ["datasets", "plots", "rendering"]),
    ("science library", ["analysis", "models"]),
    ("data sources", ["smallminesds", "demo", "imagery"]),
    (
        "foundations",
        [
            "geo",
            "params",
            "conf",
            "raw",
            "provenance",
            "locking",
            "tracking",
            "errors",
        ],
    ),
]


def package_of(module: str) -> str | None:
    """``analysis`` for ``cocoa_threat.analysis.area``; ``pipelines.risk`` for a pipeline."""
    parts = module.split(".")
    if parts[0] != "cocoa_threat" or len(parts) == 1:
        return None
    if parts[1] == "pipelines" and len(parts) > 2:
        return f"pipelines.{parts[2]}"
    return parts[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(("cocoa_threat", *parts)).removesuffix(".__init__")


def import_graph() -> tuple[dict[str, set[str]], dict[str, int]]:
    """Imports between packages, and each package's lines of code."""
    edges: dict[str, set[str]] = defaultdict(set)
    lines: dict[str, int] = defaultdict(int)
    for path in sorted(SRC.rglob("*.py")):
        source = package_of(_module_name(path))
        if source is None:
            continue
        text = path.read_text()
        lines[source] += len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                target = package_of(name)
                if target and target != source:
                    edges[source].add(target)
    return edges, lines


def layer_of(package: str) -> int:
    """Index of a package's layer (0 = top)."""
    key = "pipelines" if package.startswith("pipelines.") else package
    for i, (_, members) in enumerate(LAYERS):
        if key in members:
            return i
    raise KeyError(package)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def problems(edges: dict[str, set[str]], lines: dict[str, int]) -> list[str]:
    """Every break of the layering rules (empty when the code follows them)."""
    out = []
    for package in sorted(lines):
        try:
            layer_of(package)
        except KeyError:
            out.append(f"{package}: in no layer; add it to LAYERS in tools/architecture.py")
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if source.startswith("pipelines.") and target.startswith("pipelines."):
                out.append(f"{source} imports {target}: pipelines never import each other")
                continue
            try:
                if layer_of(target) < layer_of(source):
                    out.append(
                        f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} "
                        f"({LAYERS[layer_of(target)][0]}), a layer above it"
                    )
            except KeyError:
                continue
    out += [" -> ".join(c) + ": a circle of imports" for c in _cycles(edges)]
    return out


def graph_record(edges: dict[str, set[str]], lines: dict[str, int]) -> dict[str, object]:
    """What the picture shows, lines of code aside: layers, packages, imports, and their digest."""
    rows = drawn_rows(lines)
    shown = {p for row in rows for p in row}
    imports = {
        source: sorted(t for t in targets if t in shown)
        for source, targets in sorted(edges.items())
        if source in shown and shown & targets
    }
    graph = {"layers": {title: row for (title, _), row in zip(LAYERS, rows, strict=True)}}
    graph["imports"] = imports
    digest = hashlib.sha256(json.dumps(graph, sort_keys=True).encode()).hexdigest()
    return {"graph_sha256": digest, **graph}


def drawn_rows(lines: dict[str, int]) -> list[list[str]]:
    """The packages drawn in each layer: its members, or every ``pipelines.<name>``."""
    pipelines = sorted(p for p in lines if p.startswith("pipelines."))
    return [pipelines if members == ["pipelines"] else members for _, members in LAYERS]


def stale(record: dict[str, object], picture: Path = PICTURE, sidecar: Path = GRAPH) -> str | None:
    """Why the committed picture does not show ``record`` (None when it does)."""
    if not picture.is_file() or not sidecar.is_file():
        return f"{picture.name} or {sidecar.name} is missing; run `{REFRESH}`"
    from PIL import Image

    with Image.open(picture) as image:
        drawn = image.info.get("graph_sha256")
    saved = json.loads(sidecar.read_text())
    if drawn != saved.get("graph_sha256"):
        return f"{picture.name} and {sidecar.name} do not belong together; run `{REFRESH}`"
    if saved != record:
        return (
            f"{picture.name} is stale: the packages or imports of the code changed; "
            f"run `{REFRESH}` and commit the picture and {sidecar.name}"
        )
    return None


def draw(edges: dict[str, set[str]], lines: dict[str, int], path: Path) -> None:
    """The layers, their packages (with lines of code) and the imports between them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    rows = drawn_rows(lines)
    fig, ax = plt.subplots(figsize=(13, 8.5))
    ax.set_xlim(0, 13)
    ax.set_ylim(0, len(rows) * 1.4 + 0.2)
    ax.axis("off")
    where: dict[str, tuple[float, float]] = {}
    colours = ["#d9d9d9", "#fdd0a2", "#c6dbef", "#c7e9c0", "#fde0ef", "#efedf5"]
    for i, (row, (title, _)) in enumerate(zip(rows, LAYERS, strict=True)):
        y = (len(rows) - 1 - i) * 1.4 + 0.3
        ax.add_patch(
            FancyBboxPatch(
                (0.1, y - 0.05),
                12.8,
                1.1,
                boxstyle="round,pad=0.02",
                fc=colours[i % len(colours)],
                ec="none",
                alpha=0.5,
            )
        )
        ax.text(0.2, y + 0.95, title, fontsize=9, style="italic", va="top")
        width = 11.0 / max(len(row), 1)
        for j, package in enumerate(row):
            x = 1.6 + j * width + width / 2
            where[package] = (x, y + 0.45)
            label = package.removeprefix("pipelines.")
            ax.text(
                x,
                y + 0.45,
                f"{label}\n{lines.get(package, 0)} lines",
                ha="center",
                va="center",
                fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "#555555"},
            )
    for source, targets in edges.items():
        for target in targets:
            if source in where and target in where:
                (x0, y0), (x1, y1) = where[source], where[target]
                ax.add_patch(
                    FancyArrowPatch(
                        (x0, y0 - 0.25),
                        (x1, y1 + 0.25),
                        arrowstyle="-|>",
                        mutation_scale=7,
                        color="#777777",
                        alpha=0.35,
                        lw=0.7,
                    )
                )
    ax.set_title(
        "cocoa_threat: packages by layer (arrows: imports, only downwards; lines when drawn)",
        fontsize=11,
    )
    record = graph_record(edges, lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        dpi=110,
        bbox_inches="tight",
        metadata={"graph_sha256": str(record["graph_sha256"]), "Software": REFRESH},
    )
    plt.close(fig)
    path.with_suffix(".json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def main() -> int:
    """Command line: check the layering (and draw the picture unless --check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="check the layering and the picture; draw nothing"
    )
    args = parser.parse_args()
    edges, lines = import_graph()
    found = problems(edges, lines)
    for line in found:
        sys.stderr.write(f"layering: {line}\n")
    if args.check:
        if reason := stale(graph_record(edges, lines)):
            sys.stderr.write(f"picture: {reason}\n")
            found.append(reason)
    else:
        draw(edges, lines, PICTURE)
        sys.stdout.write(f"wrote {PICTURE.relative_to(ROOT)} and {GRAPH.relative_to(ROOT)}\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
