"""Reusing the live build's unchanged pages and files in a new build.

Most of a large site does not change when one partner file arrives: 30,000 venue pages and
tens of thousands of workshop pages stay exactly as they were. Each reusable page (see
``pages.page_plan.Page.reusable``) and each keyed file gets a fingerprint of everything
it is made from: the templates and rendering code, the site-wide values every page shows
(territory, date, asset names) and its own context. When the live build holds the same path
with the same fingerprint, the new build hard-links that file instead of rendering it.

Builds are never modified once written (a new build is a new folder), so sharing a file
between two builds is safe, and pruning an old build only drops its links. That holds only if
nothing ever writes *into* a linked file: a hard link is the same inode, so opening it for
writing would change the live site and every kept build. Every write of a build therefore
goes to a new file (``pipeline.files.replace_file``) or drops the link first (``drop_link``:
Pelican's writer, see ``site/plugins/data_pages.py``). The date is part of the fingerprint, so
the first build of each day renders and checks every page.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

from pipeline.config import REPO_ROOT
from pipeline.files import replace_file

# Everything that turns data into bytes: a change to any of these renders every page again.
RENDERING_SOURCES = ("site/theme", "pages/page_plan.py", "pages/formatting.py",
                     "pages/calendar.py", "pages/posters.py", "pelican.conf.py")


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _sha_bytes(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


# A container pickles in C about 5 times as fast as Python walks it (the 140,000 page
# contexts of a national build: ~8 s walked), so small ones are fingerprinted from their pickle.
# Larger ones are walked, so that what they share with other pages is pickled only once.
PICKLED_LIMIT = 64 * 1024


class _TooLarge(Exception):
    pass


class _BoundedBuffer:
    """A pickle's bytes, up to ``PICKLED_LIMIT``: the pickler writes frame by frame (64 KB),
    so a large container is given up after its first frame, not pickled whole."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > PICKLED_LIMIT:
            raise _TooLarge
        self.parts.append(bytes(data))
        return len(data)


def _pickled(value: object) -> bytes | None:
    """``value``'s pickle without the memo (``fast``): equal contents give equal bytes,
    whether or not they share objects. None when too large, cyclic or not picklable; the
    ``P`` prefix keeps these apart from the walked fingerprints (text, never a 0x80 byte
    after a letter)."""
    buffer = _BoundedBuffer()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True
    try:
        pickler.dump(value)
    except (_TooLarge, pickle.PicklingError, TypeError, AttributeError, ValueError):
        return None
    return b"P" + b"".join(buffer.parts)


def rendering_version() -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for name in RENDERING_SOURCES:
        root = REPO_ROOT / name
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def recorded_pages(build: Path) -> int | None:
    """The page count a build's manifest recorded when it was checked, if any."""
    try:
        return json.loads(manifest_path(build).read_text(encoding="utf-8")).get("pages")
    except (OSError, ValueError):
        return None


def manifest_path(build: Path) -> Path:
    """Fingerprints of ``<site>/builds/<id>``, in ``<site>/manifests/<id>.json`` (never served)."""
    return build.parent.parent / "manifests" / f"{build.name}.json"


def _make_folder(folder: str) -> None:
    # One mkdir when the parent exists (nearly always: pages come parent first), instead of
    # makedirs' extra look at the parent.
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


class BuildCache:
    def __init__(self, previous: Path | None, site_wide: object) -> None:
        self.previous = previous
        self.known: dict[str, str] = {}
        self.known_memo: dict[str, str] = {}
        # The venue search index's key (``pages.search_index``); manifests written before the
        # index existed have none, so the first build after them indexes.
        self.known_search_key: str | None = None
        self.known_search_parts: dict[str, str] = {}  # page -> digest of its indexed part
        # The live build's .html files as its manifest lists them (None: walk the build).
        self.known_html: list[str] | None = None
        if previous is not None and manifest_path(previous).is_file():
            stored = json.loads(manifest_path(previous).read_text(encoding="utf-8"))
            self.known, self.known_memo = stored.get("keys", {}), stored.get("memo", {})
            self.known_search_key = stored.get("search")
            self.known_search_parts = stored.get("search_parts", {})
            self.known_html = stored.get("html")
        self.code = rendering_version()
        self.base = _sha(self.code + repr(site_wide))
        self.keys: dict[str, str] = {}
        self.memo: dict[str, str] = {}
        self.reused: set[str] = set()
        self.pages = 0  # pages of the plan, written or reused
        self.checked_pages: int | None = None  # every page of the build, once checked
        self._digests: dict[int, tuple[object, str]] = {}
        self._folders: set[str] = set()
        self.files: list[str] | None = None  # every file of the finished build, walked once
        self.search_key: str | None = None  # this build's search index, when it has one
        self.search_parts: dict[str, str] = {}
        self.search_reused = False  # ... and whether it is the live build's, linked

    def value_key(self, value: object) -> str:
        """A fingerprint of a value; each container is fingerprinted once per build, so a
        year's results shared by 1,000 commune pages (or a workshop listed on its venue's page
        and in the calendar) is hashed once."""
        if not isinstance(value, (dict, list, tuple)):
            return repr(value)
        cached = self._digests.get(id(value))
        if cached is None:
            pickled = _pickled(value)
            digest = (_sha_bytes(pickled) if pickled is not None
                      else self._digest_of_items(value))
            # The object is kept so that its id cannot be given to another during the build.
            cached = self._digests[id(value)] = (value, digest)
        return cached[1]

    def _digest_of_items(self, value: dict | list | tuple) -> str:
        """A large container, item by item: the containers it holds (a year's results in
        a per-page dict) are fingerprinted once each, however many pages share them."""
        if isinstance(value, dict):
            parts = [f"{key!r}:{self.value_key(item)}" for key, item in value.items()]
        else:
            parts = [self.value_key(item) for item in value]
        return _sha(type(value).__name__ + "|".join(parts))

    def page_key(self, template: str, breadcrumb: list, context: dict) -> str:
        parts = [self.base, template, self.value_key(breadcrumb)]
        parts += [f"{name}={self.value_key(value)}" for name, value in sorted(context.items())]
        return _sha("\n".join(parts))

    def file_key(self, key: str, dated: bool = True) -> str:
        """``dated=False`` for a file made from its key alone (a QR code): not redrawn on the
        first build of each day, only when the key or the rendering code changes."""
        return _sha((self.base if dated else self.code) + key)

    def reuse(self, relative: str, key: str, output: Path) -> bool:
        """Hard-link the live build's copy when it has the same fingerprint; say whether it
        did. The fingerprint is recorded either way, for the next build."""
        self.keys[relative] = key
        if self.previous is None or self.known.get(relative) != key:
            return False
        # Plain strings, not Path objects: this runs for ~200,000 files per build.
        target = f"{output}/{relative}"
        folder = target.rpartition("/")[0]
        if folder not in self._folders:
            _make_folder(folder)
            self._folders.add(folder)
        try:
            os.link(f"{self.previous}/{relative}", target)
        except OSError:  # gone, or another file system: render it instead
            return False
        self.reused.add(relative)
        return True

    def remember(self, key: str, compute: Callable[[], bytes]) -> bytes:
        """Text computed in an earlier build from the same inputs (``key``), else computed now;
        for pieces that several files share, like a workshop's calendar event, which goes into
        its own ``.ics`` and into the feeds."""
        full = _sha(self.base + key)
        text = self.known_memo.get(full)
        if text is None:
            text = compute().decode("utf-8")
        self.memo[full] = text
        return text.encode("utf-8")

    def save(self, build: Path) -> None:
        replace_file(manifest_path(build), json.dumps(
            {"pages": self.checked_pages, "keys": self.keys, "memo": self.memo,
             "search": self.search_key, "search_parts": self.search_parts,
             "html": None if self.files is None else
             [name for name in self.files if name.endswith(".html")]},
            separators=(",", ":")).encode("utf-8"))
