"""Where the raw SmallMinesDS tiles come from: demo generator, local folder or the Hub."""

from __future__ import annotations

import logging
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from cocoa_threat.errors import SourceUnavailableError

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def find_dataset_root(path: Path, years: list[int], image_dir: str) -> Path | None:
    """Find the folder under ``path`` that holds ``<year>/<image_dir>`` for every year."""
    candidates = [path, *sorted(p for p in path.rglob("*") if p.is_dir())]
    for cand in candidates:
        if all((cand / str(y) / image_dir).is_dir() for y in years):
            return cand
    return None


def _extract(archive: Path, dest: Path) -> None:
    """Unpack an archive into ``dest`` (via a temporary folder, so never half-done)."""
    tmp = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    logger.info("Unpacking %s into %s", archive, dest)
    try:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def download_smallminesds(
    repo_id: str,
    revision: str,
    cache_dir: str,
    extract_dir: str,
    years: list[int],
    image_dir: str,
    repo_type: str = "dataset",
) -> Path:
    """Download SmallMinesDS from the Hugging Face Hub and return its root folder.

    The snapshot is cached in ``cache_dir``; if it holds an archive rather than
    the tile folders, the archive is unpacked into ``extract_dir`` once.

    Raises:
        SourceUnavailableError: If the Hub can't be reached; the message says how
            to download by hand and use ``ingestion.source: local``.
    """
    from huggingface_hub import snapshot_download

    try:
        snapshot = Path(
            snapshot_download(
                repo_id=repo_id, repo_type=repo_type, revision=revision, cache_dir=cache_dir
            )
        )
    except Exception as exc:  # network, auth, missing revision: all mean "not here"
        raise SourceUnavailableError(
            f"Could not download {repo_type} '{repo_id}' (revision {revision}) from the "
            f"Hugging Face Hub: {type(exc).__name__}: {exc}\n"
            f"To use the dataset offline, download it by hand on a machine with "
            f"internet access (e.g. `hf download {repo_id} --repo-type {repo_type} "
            f"--local-dir SmallMinesDS`), unpack the archive, copy the folder here and set "
            f"`ingestion.source: local` and `ingestion.local_path: <folder>` "
            f"(see conf/smallminesds/parameters_ingestion.yml)."
        ) from exc
    root = find_dataset_root(snapshot, years, image_dir)
    if root is not None:
        return root
    extracted = Path(extract_dir)
    root = find_dataset_root(extracted, years, image_dir) if extracted.is_dir() else None
    if root is not None:
        return root
    archives = sorted(
        p for p in snapshot.rglob("*") if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES)
    )
    if not archives:
        raise SourceUnavailableError(
            f"The Hub snapshot of '{repo_id}' at {snapshot} has neither "
            f"<year>/{image_dir} folders nor an archive; check "
            f"ingestion.huggingface.repo_id and revision"
        )
    _extract(archives[0], extracted)
    root = find_dataset_root(extracted, years, image_dir)
    if root is None:
        raise SourceUnavailableError(
            f"Unpacked {archives[0].name} into {extracted} but found no "
            f"<year>/{image_dir} folders for years {years}; check ingestion.years"
        )
    return root


def read_published_splits(csv_by_year: dict[int, str], name_pattern: str) -> pd.DataFrame:
    """Read the study's per-year split CSVs (``indices,split,patch_name``).

    Args:
        csv_by_year: One CSV path per year.
        name_pattern: Regex with ``tile`` and ``year`` groups for ``patch_name``.

    Returns:
        tile_id, year, split.
    """
    import re

    import pandas as pd

    regex = re.compile(name_pattern)
    frames = []
    for year, path in csv_by_year.items():
        table = pd.read_csv(path)
        if not {"split", "patch_name"} <= set(table.columns):
            raise ValueError(
                f"{path}: needs columns 'split' and 'patch_name' "
                f"(ingestion.split.published_csv.{year})"
            )
        for name, split in zip(table["patch_name"], table["split"], strict=True):
            match = regex.match(str(name)) or regex.match(f"MASK_{name}")
            if not match:
                raise ValueError(f"{path}: patch_name {name!r} does not match {name_pattern!r}")
            frames.append({"tile_id": match["tile"], "year": int(year), "split": str(split)})
    return pd.DataFrame(frames)
