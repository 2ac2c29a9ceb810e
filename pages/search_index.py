"""The search over every venue when the directory is split by commune (issue 16, item 9).

Above ``INCLUSION_LIST_LIMIT`` venues, ``/lieux/`` is an index of communes and each commune's
page filters only its own venues. To still search the whole territory without a server, the
finished build gets a chunked static index written by Pagefind (its CLI binary ships inside the
``pagefind_bin`` wheel): the browser downloads only the chunks of the words typed, a few tens of
kilobytes, whatever the number of venues. The venue pages say what is indexed
(``data-pagefind-body``, ``-ignore``, ``-meta`` in ``venue.html``); ``recherche.js`` queries it.

Indexing 30,000 pages costs 10 to 70 seconds on every build, although the venues rarely
change: with a build cache (``publish.build_cache``) the index gets a key made of the Pagefind
version, this module and the indexed part of every venue page (from ``data-pagefind-body`` to
END); when the live build recorded the same key, its index folder is hard-linked instead (its
files are never written into afterwards). The key reads the pages' indexed part rather than
their build fingerprints, which also change with a venue's workshops and the date (neither is
indexed): a new workshop file would otherwise index the whole country again. Each page's
part digest is kept in the build's manifest, so a page hard-linked from the live build is not
read again (30,000 pages read took 3 to 5 s of a new-file build).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

# The index, at the site's root (``/pagefind/``) rather than under /lieux/, where a venue's
# slug could one day take the same name.
FOLDER = "pagefind"
SCRIPT = f"/{FOLDER}/pagefind.js"
GLOB = "lieux/*/index.html"  # venue pages only: commune pages are lieux/commune/<insee>/
# The indexed part of a venue page, as venue.html marks it.
START, END = b"data-pagefind-body", b"<!-- /data-pagefind-body -->"
OPTIONS = ("--glob", GLOB, "--force-language", "fr")
# Pagefind also writes ready-made interfaces; the site has its own small one (recherche.js),
# so these are dropped rather than published unused.
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
          "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
          "pagefind-highlight.js")


class SearchIndexFailed(Exception):
    pass


def venue_pages(files: list[str]) -> list[str]:
    """The build's files that GLOB selects: ``lieux/<slug>/index.html``."""
    return sorted(f for f in files if f.startswith("lieux/") and f.endswith("/index.html")
                  and f.count("/") == 2)


def indexed_part(page: bytes) -> bytes:
    """What Pagefind reads of a venue page; the whole page when it has no marks."""
    start = page.find(START)
    end = page.find(END, start)
    return page if start < 0 or end < 0 else page[start:end]


def part_digests(output: Path, pages: list[str], known: dict[str, str] | None = None,
                 linked: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """A digest of each page's indexed part. A page hard-linked from the live build
    (``linked``) is the live build's own file, so it keeps the digest that build recorded
    (``known``) instead of being read again."""
    known = known or {}
    digests = {}
    for page in pages:
        digest = known.get(page) if page in linked else None
        if digest is None:
            digest = hashlib.sha1(indexed_part((output / page).read_bytes()),
                                  usedforsecurity=False).hexdigest()
        digests[page] = digest
    return digests


def key_of(digests: dict[str, str]) -> str:
    """What the index is made from: the Pagefind version, its options, this module, and the
    indexed part of each page (``part_digests``)."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{version('pagefind_bin')}\n{OPTIONS}\n".encode())
    digest.update(Path(__file__).read_bytes())
    for page, part in digests.items():
        digest.update(f"\n{page}\n{part}".encode())
    return digest.hexdigest()


def index_key(output: Path, pages: list[str]) -> str:
    """The key of the index of ``pages``, every page read."""
    return key_of(part_digests(output, pages))


def run_pagefind(output: Path) -> None:
    """Index the venue pages of ``output`` into ``output/FOLDER`` (a new folder)."""
    target = output / FOLDER
    shutil.rmtree(target, ignore_errors=True)  # unlinking never writes into a shared file
    command = [sys.executable, "-m", "pagefind", "--site", str(output), *OPTIONS,
               "--output-subdir", FOLDER, "--silent"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (target / "pagefind.js").is_file():
        shutil.rmtree(target, ignore_errors=True)
        raise SearchIndexFailed("l'index de recherche des lieux n'a pas pu être construit : "
                                + (result.stderr or result.stdout).strip()[-2000:])
    for name in UNUSED:
        (target / name).unlink(missing_ok=True)


def link_index(previous: Path, output: Path) -> bool:
    """Hard-link every file of the live build's index into this build; False (and nothing
    left behind) when any file is missing or cannot be linked."""
    source, target = previous / FOLDER, output / FOLDER
    if not (source / "pagefind.js").is_file():
        return False
    try:
        for folder, _dirs, names in os.walk(source):
            into = target / Path(folder).relative_to(source)
            into.mkdir(parents=True, exist_ok=True)
            for name in names:
                os.link(Path(folder) / name, into / name)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        return False
    return True


def build_index(output: Path, files: list[str], cache=None) -> bool:
    """The index of the venue pages among ``files``; with a cache (``BuildCache``), the live
    build's when nothing it is made from changed. Says whether it was reused."""
    pages = venue_pages(files)
    if cache is None:
        run_pagefind(output)
        return False
    cache.search_parts = part_digests(output, pages, cache.known_search_parts, cache.reused)
    key = cache.search_key = key_of(cache.search_parts)
    cache.search_reused = (cache.previous is not None and cache.known_search_key == key
                           and link_index(cache.previous, output))
    if not cache.search_reused:
        run_pagefind(output)
    return cache.search_reused
