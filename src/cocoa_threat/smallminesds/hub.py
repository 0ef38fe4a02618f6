"""Downloading SmallMinesDS from the Hugging Face Hub: only the years asked, at a pinned commit.

The download goes through the Hub's own cache (``ingestion.huggingface.cache_dir``),
which resumes interrupted transfers; :func:`fetch_tiles` returns the cached
files by their place in the layout (``<year>/IMAGE/...``, ``<year>/MASK/...``),
and the catalog's raw-tiles dataset places them (hard links, byte for byte). If
the repository holds the tile folders, only the files of the requested years
are fetched (allow patterns); if it holds an archive, only the members of those
years are unpacked, into the cache.
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

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


def resolve_commit(hf: HuggingFaceSource) -> tuple[str, list[str]]:
    """The commit ``hf.revision`` resolves to, and the repository's files.

    Raises:
        SourceUnavailableError: If the Hub can't be reached; the message says how
            to download by hand.
    """
    from huggingface_hub import HfApi

    try:
        info = HfApi().repo_info(hf.repo_id, repo_type=hf.repo_type, revision=hf.revision)
    except Exception as exc:  # network, auth, missing revision: all mean "not here"
        raise _unreachable(hf, exc) from exc
    commit = str(info.sha or hf.revision)
    if not COMMIT.match(hf.revision):
        logger.warning(
            "ingestion.huggingface.revision is %r, not a commit: set it to %s to pin the data",
            hf.revision,
            commit,
        )
    return commit, [s.rfilename for s in (info.siblings or [])]


def _snapshot_files(
    hf: HuggingFaceSource, commit: str, plan: DownloadPlan, years: list[int], naming: FileNaming
) -> dict[str, Path]:
    from huggingface_hub import snapshot_download

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
    return {
        f"{year}/{sub}/{src.name}": src
        for year in years
        for sub in (naming.image_dir, naming.mask_dir)
        for src in sorted((snapshot / f"{plan.prefix}{year}" / sub).glob("*.tif"))
    }


def _archive_files(
    hf: HuggingFaceSource, commit: str, plan: DownloadPlan, years: list[int], naming: FileNaming
) -> dict[str, Path]:
    from huggingface_hub import hf_hub_download

    unpacked = Path(hf.cache_dir) / "unpacked" / commit
    for name in plan.archives:
        logger.info("Downloading %s@%s: %s", hf.repo_id, commit[:10], name)
        archive = hf_hub_download(
            repo_id=hf.repo_id,
            filename=name,
            repo_type=hf.repo_type,
            revision=commit,
            cache_dir=hf.cache_dir,
        )
        extract_years(Path(archive), unpacked, years, naming)
    return {
        p.relative_to(unpacked).as_posix(): p
        for p in sorted(unpacked.rglob("*.tif"))
        if int(p.relative_to(unpacked).parts[0]) in years
    }


def fetch_tiles(
    hf: HuggingFaceSource, commit: str, files: list[str], years: list[int], naming: FileNaming
) -> dict[str, Path]:
    """Download the tiles of ``years`` at ``commit`` into the Hub cache.

    Returns:
        Their place in the SmallMinesDS layout (``<year>/IMAGE/<file>``) -> the cached file.

    Raises:
        SourceUnavailableError: If the Hub can't be reached, or the repository
            has no tiles for the years; the message says what to do.
    """
    plan = plan_download(files, years, naming)
    try:
        fetch = _snapshot_files if plan.patterns else _archive_files
        placed = fetch(hf, commit, plan, years, naming)
    except SourceUnavailableError:
        raise
    except Exception as exc:
        raise _unreachable(hf, exc) from exc
    logger.info("Fetched %d SmallMinesDS files of %s", len(placed), years)
    return placed
