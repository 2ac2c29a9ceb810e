"""Publishing the site to an object store (``INCLUSION_SITE_STORE_URL`` set to ``s3://…``).

The build is rendered and checked in the worker's own data folder as on one machine; then
``publish.site.prepare`` sends it (``upload``: never online, readers follow the pointer), so
that whichever worker runs ``publish.site.go_live`` can put it online: ``upload`` again (only a
check when the build is sealed; it completes an interrupted upload from its own copy) and
``switch``. A build a steward sets aside is removed from the store (``discard``).

``<site>/builds/<id>/…``
    The build's files, each with its Content-Type. A build prefix never changes once sealed.
``<site>/inventaires/<id>.json``
    Every file of the build with its size, SHA-256 and MD5, written only after the uploaded
    prefix was listed and checked against the local build (present, same size, same content:
    the ETag of a single-part upload is the MD5 of its bytes; otherwise the object is read back
    and hashed). Its presence *seals* the build: a sealed prefix is never written again, and
    only a sealed build can go online.
``<site>/current.json``
    The pointer: the live build's id and prefix, when it went online and the builds before it
    (for rollback). Written in one PUT after the upload was verified, so readers (a web server
    or CDN, see docs/object-storage.md) switch from one complete build to the next in one step.

A prefix left unsealed by an interrupted upload (the store went away) was never online: the
next attempt completes it, re-sending only what is missing or different. ``prune`` drops old
builds, never the live one or those the pointer keeps for rollback, and unseals a build before
deleting its files, so that no sealed build is ever incomplete.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path

from pipeline import storage

POINTER = "current.json"
BUILDS = "builds"
INVENTORIES = "inventaires"
# Parallel uploads; the store's own connection pool bounds the real concurrency.
UPLOAD_THREADS = 16
# Text files are UTF-8; the rest by extension (mimetypes), else bytes.
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".json": "application/json",
                 ".geojson": "application/geo+json", ".ics": "text/calendar; charset=utf-8",
                 ".csv": "text/csv; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".xml": "application/xml", ".svg": "image/svg+xml",
                 ".webmanifest": "application/manifest+json"}


class BucketError(Exception):
    """A publication refused on the store (French message; the live pointer is unchanged)."""


class SiteStoreUnreachable(ConnectionError):
    """The object store did not answer; the live pointer is unchanged."""


def is_remote() -> bool:
    return not storage.is_local("site")


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return (CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
            or "application/octet-stream")


class _Store:
    """The site area's file system and its base path (``bucket/prefix``)."""

    def __init__(self) -> None:
        root = storage.area("site")
        self.fs = root.fs
        self.base = root.path.rstrip("/")

    def key(self, *parts: str) -> str:
        return "/".join((self.base, *parts))

    def read_json(self, *parts: str) -> dict | None:
        path = self.key(*parts)
        self.fs.invalidate_cache(path)
        try:
            return json.loads(self.fs.cat_file(path))
        except FileNotFoundError:
            return None

    def write_json(self, value: dict, *parts: str) -> None:
        self.fs.pipe_file(self.key(*parts), json.dumps(value, indent=1, sort_keys=True).encode(),
                          ContentType="application/json", CacheControl="no-cache")

    def listing(self, *parts: str) -> dict[str, dict]:
        """Objects below a prefix, by path relative to it, read fresh from the store."""
        prefix = self.key(*parts) + "/"
        self.fs.invalidate_cache(prefix.rstrip("/"))
        found = self.fs.find(prefix, detail=True)
        return {path[len(prefix):]: info for path, info in found.items()
                if info.get("type") == "file"}


def _digests(path: Path) -> tuple[int, str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), md5.hexdigest()


def inventory(build: Path) -> dict[str, list]:
    """Every file of a local build: relative path -> [size, sha256, md5]."""
    from pages.page_plan import files_under

    return {name: list(_digests(build / name)) for name in sorted(files_under(build))}


def pages_of(files: dict[str, list]) -> int:
    return sum(1 for name in files if name.endswith(".html"))


def _same(info: dict, size: int, md5: str) -> bool | None:
    """Whether an object holds these bytes by its size and ETag; None when the ETag is not a
    plain MD5 (multipart upload, some encryption) and the object must be read to tell."""
    if info.get("size") != size:
        return False
    etag = str(info.get("ETag", "")).strip('"')
    if len(etag) == 32 and "-" not in etag:
        return etag == md5
    return None


def _read_sha256(store: _Store, path: str) -> str:
    digest = hashlib.sha256()
    with store.fs.open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _differences(store: _Store, build_id: str, files: dict[str, list]) -> tuple[list, list]:
    """(files of the local build missing or different on the store, objects on the store that
    are not in the build), from a fresh listing of the build's prefix."""
    remote = store.listing(BUILDS, build_id)
    missing = []
    for name, (size, sha, md5) in files.items():
        info = remote.get(name)
        same = None if info is None else _same(info, size, md5)
        if same is None and info is not None:
            same = _read_sha256(store, store.key(BUILDS, build_id, name)) == sha
        if not same:
            missing.append(name)
    return missing, sorted(set(remote) - set(files))


def _send(store: _Store, build: Path, build_id: str, names: list[str]) -> None:
    """Upload files in parallel; the first failure cancels the rest and is raised."""
    if not names:
        return
    with ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="envoi-site") as pool:
        futures = [pool.submit(store.fs.put_file, str(build / name),
                               store.key(BUILDS, build_id, name), ContentType=content_type(name))
                   for name in names]
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            pool.shutdown(wait=True, cancel_futures=True)
            raise failed[0].exception()


def upload(build_id: str, build: Path) -> dict[str, list]:
    """Upload a checked local build to ``<site>/builds/<id>/``, check it there and seal it;
    returns its inventory. Idempotent: a sealed prefix with the same files is left as it is;
    one with other files is refused (a published build never changes)."""
    store = _Store()
    files = inventory(build)
    sealed = store.read_json(INVENTORIES, f"{build_id}.json")
    if sealed is not None and sealed.get("files") != files:
        raise BucketError(
            f"la version {build_id} existe déjà sur le stockage objet avec un autre contenu ; "
            "une version publiée ne change jamais : relancez la publication (nouvelle version)")
    missing, extra = _differences(store, build_id, files)
    if (missing or extra) and sealed is None:  # an interrupted upload, never online
        for name in extra:
            store.fs.rm_file(store.key(BUILDS, build_id, name))
        _send(store, build, build_id, missing)
        missing, extra = _differences(store, build_id, files)
    if missing or extra:
        raise BucketError(
            f"la version {build_id} envoyée sur le stockage objet ne correspond pas à la version "
            f"construite ({len(missing)} fichier(s) manquant(s) ou différent(s), "
            f"{len(extra)} en trop, par ex. {(missing + extra)[0]}) ; le site en ligne n'a pas "
            "changé")
    if sealed is None:
        store.write_json({"build_id": build_id, "files": files}, INVENTORIES, f"{build_id}.json")
    return files


def switch(build_id: str, keep: int) -> dict:
    """Point readers at a sealed build in one write of ``current.json``; the builds before it
    (at most ``keep - 1``) are listed there for rollback."""
    store = _Store()
    sealed = store.read_json(INVENTORIES, f"{build_id}.json")
    if sealed is None:
        raise BucketError(f"la version {build_id} n'est ni en attente sur ce poste ni envoyée "
                          "complète sur le stockage objet")
    before = store.read_json(POINTER)
    if before is not None and before["build_id"] == build_id:
        previous = before["previous"]  # a retry: it is already online
    else:
        previous = ([before["build_id"]] + before["previous"]) if before else []
    pointer = _pointer(build_id, sealed["files"], [b for b in previous if b != build_id], keep)
    store.write_json(pointer, POINTER)
    return pointer


def _pointer(build_id: str, files: dict, previous: list[str], keep: int) -> dict:
    return {"build_id": build_id, "prefix": f"{BUILDS}/{build_id}/", "pages": pages_of(files),
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "previous": previous[:max(keep - 1, 1)]}


def live() -> tuple[dict, dict[str, list]] | None:
    """The pointer and the sealed inventory's files of the build it names (the live one, for
    any worker, whether or not it has a copy); None when nothing is online."""
    store = _Store()
    pointer = store.read_json(POINTER)
    if pointer is None:
        return None
    sealed = store.read_json(INVENTORIES, f"{pointer['build_id']}.json") or {}
    return pointer, sealed.get("files", {})


def rollback(keep: int) -> dict:
    """Point readers back at the build before the live one (the first of the pointer's
    ``previous`` still sealed on the store)."""
    store = _Store()
    before = store.read_json(POINTER)
    if before is None:
        raise BucketError("aucune version du site n'est en ligne sur le stockage objet")
    previous = before["previous"]
    for index, build_id in enumerate(previous):
        sealed = store.read_json(INVENTORIES, f"{build_id}.json")
        if sealed is not None:
            pointer = _pointer(build_id, sealed["files"], previous[index + 1:], keep)
            pointer["rolled_back_from"] = before["build_id"]
            store.write_json(pointer, POINTER)
            return pointer
    raise BucketError("aucune version précédente du site n'est disponible")


def prune(keep: int) -> list[str]:
    """Drop the builds beyond the ``keep`` newest, never the live one nor those the pointer
    keeps for rollback; returns the ids dropped. Each is unsealed before its files go."""
    store = _Store()
    pointer = store.read_json(POINTER)
    if pointer is None:
        return []
    kept = {pointer["build_id"], *pointer["previous"]}
    store.fs.invalidate_cache(store.key(BUILDS))
    builds = sorted(path.rstrip("/").rpartition("/")[2]
                    for path in store.fs.ls(store.key(BUILDS), detail=False, refresh=True))
    dropped = [b for b in builds[:-keep] if b not in kept]
    for build_id in dropped:
        _delete(store, build_id)
    return dropped


def discard(build_id: str) -> None:
    """Remove a build that never went online (set aside by a steward): unsealed, then its
    files. The live build and those kept for rollback are refused."""
    store = _Store()
    pointer = store.read_json(POINTER)
    if pointer is not None and build_id in (pointer["build_id"], *pointer["previous"]):
        raise BucketError(f"la version {build_id} est en ligne ou gardée pour un retour "
                          "arrière : elle reste sur le stockage objet")
    _delete(store, build_id)


def _delete(store: _Store, build_id: str) -> None:
    store.fs.rm_file(store.key(INVENTORIES, f"{build_id}.json"))  # unsealed first
    if store.listing(BUILDS, build_id):
        store.fs.rm(store.key(BUILDS, build_id), recursive=True)


def unreachable(error: BaseException) -> bool:
    """Whether an error (or one behind it) means the store did not answer."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (BotoConnectionError, HTTPClientError, TimeoutError,
                              ConnectionError)):
            return True
        error = error.__cause__ or error.__context__
    return False
