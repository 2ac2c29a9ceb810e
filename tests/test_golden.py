"""Golden pages: a few pages of the demo site built at the fixed REFERENCE_RUN (conftest's
``demo_site``) compared byte for byte with the copies committed under tests/golden/.

A change to templates, formatting, styles or sample data changes these pages on purpose:
look at the diff, then regenerate the copies and commit them with the change::

    INCLUSION_REGENERATE_GOLDEN=1 make test-fast
    INCLUSION_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py   # just these

Asset names carry a hash of their content (``transforms.page_plan.fingerprinted_assets``), so
a changed stylesheet changes every page's ``<link>``; the name depends on nothing else.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from pathlib import Path

import pytest

from conftest import REPO

GOLDEN = REPO / "tests" / "golden"
REGENERATE = os.environ.get("INCLUSION_REGENERATE_GOLDEN") == "1"
PAGES = {  # golden copy -> page of the built site
    "home.html": "index.html",
    "venues.html": "lieux/index.html",
    "venue-lieu-91477-01.html": "lieux/lieu-91477-01/index.html",
    "workshops.html": "ateliers/index.html",
    "results-2026.html": "resultats/2026/index.html",
}
DIFF_LINES = 60
ASSET = re.compile(r'(?:href|src)="/(theme/[^"]+\.([0-9a-f]{10})\.[a-z0-9]+)"')


@pytest.mark.parametrize("golden, page", PAGES.items(), ids=list(PAGES))
def test_page_is_byte_for_byte_its_golden_copy(demo_site: Path, golden: str, page: str):
    built = (demo_site / page).read_bytes()
    copy = GOLDEN / golden
    if REGENERATE:
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(built)
        return
    assert copy.is_file(), (f"no golden copy {copy.relative_to(REPO)}: "
                            "INCLUSION_REGENERATE_GOLDEN=1 make test-fast")
    expected = copy.read_bytes()
    if built == expected:
        return
    diff = list(difflib.unified_diff(
        expected.decode("utf-8").splitlines(), built.decode("utf-8").splitlines(),
        fromfile=f"tests/golden/{golden}", tofile=f"built {page}", lineterm="", n=2))
    shown = "\n".join(diff[:DIFF_LINES])
    more = f"\n… {len(diff) - DIFF_LINES} more diff lines" if len(diff) > DIFF_LINES else ""
    pytest.fail(f"{page} differs from tests/golden/{golden} (if intended: "
                f"INCLUSION_REGENERATE_GOLDEN=1 make test-fast, then commit):\n{shown}{more}",
                pytrace=False)


def test_golden_copies_are_exactly_the_listed_pages():
    if REGENERATE:
        pytest.skip("regenerating")
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(PAGES)


def test_asset_names_are_the_hash_of_their_content_only(demo_site: Path):
    """What makes golden pages stable: each page names its assets by content hash, and the
    built asset's bytes give that very hash (no date, path or build id in the name)."""
    seen = set()
    for page in PAGES.values():
        for relative, digest in ASSET.findall((demo_site / page).read_text(encoding="utf-8")):
            data = (demo_site / relative).read_bytes()
            assert hashlib.sha256(data).hexdigest()[:10] == digest, relative
            seen.add(relative)
    assert any(name.endswith(".css") for name in seen), seen
