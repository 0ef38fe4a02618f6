"""Downloading SmallMinesDS from the Hugging Face Hub: only the years asked, at a pinned commit.

The download goes through the Hub's own cache (``ingestion.huggingface.cache_dir``),
which resumes interrupted transfers; the tiles are then laid out as
``<year>/IMAGE`` and ``<year>/MASK`` in the folder the raw-tiles catalog entry
names. If the repository holds the tile folders, only the files of the
requested years are fetched (allow patterns); if it holds an archive, only the
members of those years are unpacked.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cocoa_threat.errors import SourceUnavailableError
from cocoa_threat.params.ingestion import FileNaming, HuggingFaceSource

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class DownloadPlan:
    """What to fetch: tile-folder patterns, or one archive to unpack partly."""

    patterns: tuple[str, ...] = ()
    prefix: str = ""
    archives: tuple[str, ...] = ()


def _tile_re(naming: FileNaming) -> re.Pattern[str]:
    dirs = "|".join(re.escape(d) for d in (naming.image_dir, naming.mask_dir))
    return re.compile(rf"^(?P<prefix>(?:.*/)?)(?P<year>\d{{4}})/(?P<dir>{dirs})/[^/]+\.tif$")


def plan_download(files: list[str], years: list[int], naming: FileNaming) -> DownloadPlan:
    """Choose the files of the requested years among a repository's files.

    Raises:
        SourceUnavailableError: If the repository has neither tile folders for
            every year nor an archive.
    """
    tile_re = _tile_re(naming)
    layout: dict[str, set[tuple[int, str]]] = {}
    for name in files:
        match = tile_re.match(name)
        if match and int(match["year"]) in years:
            layout.setdefault(match["prefix"], set()).add((int(match["year"]), match["dir"]))
    wanted = {(y, d) for y in years for d in (naming.image_dir, naming.mask_dir)}
    for prefix, have in sorted(layout.items()):
        if wanted <= have:
            patterns = tuple(f"{prefix}{y}/{d}/*" for y, d in sorted(wanted))
            return DownloadPlan(patterns=patterns, prefix=prefix)
    archives = sorted(f for f in files if f.lower().endswith(ARCHIVE_SUFFIXES))
    per_year = [a for a in archives if any(str(y) in Path(a).name for y in years)]
    if per_year and all(any(str(y) in Path(a).name for a in per_year) for y in years):
        return DownloadPlan(archives=tuple(per_year))
    if archives:
        return DownloadPlan(archives=(archives[0],))
    raise SourceUnavailableError(
        f"The repository has neither <year>/{naming.image_dir} and <year>/{naming.mask_dir} "
        f"folders for years {years} nor an archive ({len(files)} files); check "
        f"ingestion.huggingface.repo_id, revision and ingestion.years"
    )


def _place(src: Path, dst: Path) -> None:
    """Hard-link a cached file into place (no second copy), or copy it."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src.resolve(), dst)
    except OSError:
        shutil.copyfile(src, dst)


def extract_years(archive: Path, dest: Path, years: list[int], naming: FileNaming) -> int:
    """Unpack only the tiles of ``years`` from an archive into ``dest/<year>/<dir>/``.

    Returns:
        The number of files unpacked.
    """
    tile_re = _tile_re(naming)
    count = 0

    def target(name: str) -> Path | None:
        match = tile_re.match(name)
        if not match or int(match["year"]) not in years:
            return None
        return dest / match["year"] / match["dir"] / Path(name).name

    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if (out := target(name)) is not None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(name) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    count += 1
        return count
    with tarfile.open(archive) as tf:
        for member in tf:
            if member.isfile() and (out := target(member.name)) is not None:
                out.parent.mkdir(parents=True, exist_ok=True)
                handle = tf.extractfile(member)
                assert handle is not None
                with handle as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                count += 1
    return count


def _unreachable(hf: HuggingFaceSource, exc: Exception) -> SourceUnavailableError:
    return SourceUnavailableError(
        f"Could not download {hf.repo_type} '{hf.repo_id}' (revision {hf.revision}) from the "
        f"Hugging Face Hub: {type(exc).__name__}: {exc}\n"
        f"To use the dataset offline, download it by hand on a machine with internet "
        f"access (e.g. `hf download {hf.repo_id} --repo-type {hf.repo_type} --local-dir "
        f"SmallMinesDS`), unpack it so that <folder>/<year>/IMAGE exists, set "
        f"`ingestion.source: local` and point `raw.tiles` in conf/<env>/globals.yml at the "
        f"folder (see docs/real_data.md)."
    )


def download_tiles(
    hf: HuggingFaceSource, years: list[int], naming: FileNaming, dest: Path
) -> dict[str, Any]:
    """Download the tiles of ``years`` into ``dest`` (``<year>/IMAGE``, ``<year>/MASK``).

    Args:
        hf: Repository, revision and cache.
        years: The years the run needs.
        naming: Folder names of images and masks.
        dest: The folder to create.

    Returns:
        Provenance: repository, revision asked, commit resolved, files placed.

    Raises:
        SourceUnavailableError: If the Hub can't be reached; the message says how
            to download by hand.
    """
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download

    try:
        info = HfApi().repo_info(hf.repo_id, repo_type=hf.repo_type, revision=hf.revision)
        files = [s.rfilename for s in (info.siblings or [])]
        commit = str(info.sha or hf.revision)
    except Exception as exc:  # network, auth, missing revision: all mean "not here"
        raise _unreachable(hf, exc) from exc
    if not COMMIT.match(hf.revision):
        logger.warning(
            "ingestion.huggingface.revision is %r, not a commit: set it to %s to pin the data",
            hf.revision,
            commit,
        )
    plan = plan_download(files, years, naming)
    dest.mkdir(parents=True, exist_ok=True)
    placed = 0
    try:
        if plan.patterns:
            logger.info("Downloading %s@%s: %s", hf.repo_id, commit[:10], ", ".join(plan.patterns))
            snapshot = Path(
                snapshot_download(
                    repo_id=hf.repo_id,
                    repo_type=hf.repo_type,
                    revision=commit,
                    cache_dir=hf.cache_dir,
                    allow_patterns=list(plan.patterns),
                )
            )
            for year in years:
                for sub in (naming.image_dir, naming.mask_dir):
                    for src in sorted((snapshot / f"{plan.prefix}{year}" / sub).glob("*.tif")):
                        _place(src, dest / str(year) / sub / src.name)
                        placed += 1
        else:
            for name in plan.archives:
                logger.info("Downloading %s@%s: %s", hf.repo_id, commit[:10], name)
                archive = Path(
                    hf_hub_download(
                        repo_id=hf.repo_id,
                        filename=name,
                        repo_type=hf.repo_type,
                        revision=commit,
                        cache_dir=hf.cache_dir,
                    )
                )
                placed += extract_years(archive, dest, years, naming)
    except SourceUnavailableError:
        raise
    except Exception as exc:
        raise _unreachable(hf, exc) from exc
    logger.info("Placed %d SmallMinesDS files of %s in %s", placed, years, dest)
    return {
        "repo_id": hf.repo_id,
        "revision": hf.revision,
        "commit": commit,
        "years": list(years),
        "files": placed,
        "from": list(plan.patterns or plan.archives),
    }
