"""Screenshot of the interactive map with headless Chromium, for the docs and the README.

    python tools/screenshot.py [data/08_reporting/map.html] [docs/images/map.png]

Chromium runs with networking off: the picture shows what the page draws offline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Headless Chromium that can reach no host: a page that needs the network shows it.
OFFLINE_CHROMIUM = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def screenshot(page: Path, out: Path, size: str = "1200,850") -> Path:
    """Render ``page`` and write a PNG to ``out``."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("needs Chromium (Debian: apt install chromium)")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            browser,
            *OFFLINE_CHROMIUM,
            "--hide-scrollbars",
            f"--window-size={size}",
            "--virtual-time-budget=8000",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out


def main() -> int:
    """Command line."""
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/08_reporting/map.html"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs/images/map.png"
    sys.stdout.write(f"wrote {screenshot(page, out)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
