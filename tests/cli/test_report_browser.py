"""The HTML report in a real headless browser (Chromium over the DevTools protocol): it loads
without a console message, an exception or a log entry, requests nothing but itself, and its
screenshot is not blank. A page with faults, loaded beside it, shows that each check can fail.

Skipped when no Chromium is installed (CI installs Debian's ``chromium``; see ``.ci/run``).
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from browser import find_chromium, load_pages
from report_docs import documents

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (CI installs it)")

FAULTY = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>faulty</title></head><body>
<p>a page with one fault of each kind</p><script>console.error("made to fail");
undefinedFunction();</script><img src="https://example.invalid/pixel.png" alt=""></body></html>
"""


def pixels(png: bytes) -> object:
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_the_page_loads_cleanly_and_shows_something(tmp_path: Path) -> None:
    import numpy as np

    d = documents()
    page = tmp_path / "report.html"
    files = [str(d.run), str(d.run_plain), str(d.sweep), str(d.ab)]
    subprocess.run(
        [sys.executable, "-m", "pinbench", "report", *files, "-f", "html", "-o", str(page)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    faulty = tmp_path / "faulty.html"
    faulty.write_text(FAULTY)
    assert CHROMIUM is not None
    good, bad = load_pages([page, faulty], CHROMIUM)

    # The checks can fail: the faulty page trips each of them.
    assert bad.console == ["error: made to fail"]
    assert any("undefinedFunction" in e for e in bad.exceptions)
    assert "https://example.invalid/pixel.png" in bad.requests
    assert any(entry.startswith("error:") for entry in bad.log)

    assert good.console == [] and good.exceptions == [] and good.log == []
    assert good.requests == [page.resolve().as_uri()]
    img = np.asarray(pixels(good.screenshot))
    assert img.ndim == 3 and img.shape[0] > 900 and img.shape[1] >= 1280  # the whole page
    rgb = img[..., :3].reshape(-1, 3)
    ink = np.mean(np.any(rgb < 0.9, axis=1))  # share of pixels that are not (near) white
    rgb8 = np.round(rgb * 255).astype(np.uint32)
    colours = np.unique((rgb8[:, 0] << 16) | (rgb8[:, 1] << 8) | rgb8[:, 2]).size
    assert ink > 0.01 and colours > 16, (ink, colours)
