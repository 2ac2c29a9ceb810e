"""Objects in a storage area: listing, copying to and from the worker's working folder, deleting
an object only if it is still the version that was processed.

An object store has no links, no open files and no partial objects: an upload becomes visible
in one step once complete. What tells two versions of one key apart is the ETag, which the
store changes with the bytes; ``LastModified`` is when the version was written. Listings are
always fresh (fsspec caches directory listings; a stale one would show a deleted object).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)
BLOCK = 1 << 20


@dataclass(frozen=True)
class StoredObject:
    """One object under a folder: its name relative to the folder (``a/b.csv`` when it lies
    deeper), size in bytes, ``LastModified`` as a POSIX time, ETag without quotes."""
    name: str
    size: int
    modified: float
    etag: str


def _etag(info: dict) -> str:
    return str(info.get("ETag") or info.get("etag") or "").strip('"')


def _modified(info: dict) -> float:
    value = info.get("LastModified") or info.get("mtime") or 0
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _fresh(path: ObjectStoragePath) -> None:
    path.fs.invalidate_cache(path.path)


def list_objects(folder: ObjectStoragePath) -> list[StoredObject]:
    """Every object under ``folder``, at any depth (a key ending in ``/`` is a folder marker,
    listed with its trailing slash); none when the folder does not exist yet."""
    _fresh(folder)
    prefix = folder.path.rstrip("/") + "/"
    try:
        found = folder.fs.find(folder.path, detail=True, withdirs=False)
    except FileNotFoundError:
        return []
    objects = []
    for key, info in sorted(found.items()):
        name = (info.get("Key") or key)
        if not name.startswith(prefix):
            continue
        objects.append(StoredObject(name[len(prefix):], int(info.get("size") or 0),
                                    _modified(info), _etag(info)))
    return objects


def stat_object(path: ObjectStoragePath) -> StoredObject | None:
    """The object as it is now, or None when there is none."""
    _fresh(path)
    try:
        info = path.fs.info(path.path)
    except FileNotFoundError:
        return None
    if info.get("type") == "directory":
        return None
    return StoredObject(path.name, int(info.get("size") or 0), _modified(info), _etag(info))


def download(source: ObjectStoragePath, target: Path, etag: str) -> StoredObject | None:
    """Copy the object into ``target`` (written beside it, then renamed; its modification time
    set to the object's ``LastModified``) if it is still the version ``etag``; None, and nothing
    written, when it is gone or was replaced. The bytes are read with the store checking the
    version at every request (s3fs sends ``If-Match``), so a replacement during the copy fails
    it instead of mixing two versions."""
    seen = stat_object(source)
    if seen is None or seen.etag != etag:
        return None
    temporary = target.with_name(f".{os.getpid()}-{id(target):x}.telechargement")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as remote, temporary.open("wb") as local:
            shutil.copyfileobj(remote, local, BLOCK)
        after = stat_object(source)
        if after is None or after.etag != etag:
            return None
        os.utime(temporary, (seen.modified, seen.modified))
        os.replace(temporary, target)
    except OSError as error:  # replaced while read (412), or gone
        if stat_object(source) == seen:
            raise
        log.info("%s : remplacé ou retiré pendant sa copie (%s)", source, error)
        return None
    finally:
        temporary.unlink(missing_ok=True)
    return seen


def upload(source: Path, target: ObjectStoragePath) -> None:
    """Copy a local file to ``target`` (an object appears whole or not at all)."""
    with source.open("rb") as local, target.open("wb") as remote:
        shutil.copyfileobj(local, remote, BLOCK)


def write_text(target: ObjectStoragePath, text: str) -> None:
    target.write_bytes(text.encode("utf-8"))


def delete_if_unchanged(path: ObjectStoragePath, etag: str) -> bool:
    """Delete the object if it is still the version ``etag``; False when a new version was
    written meanwhile (it stays, for the next run) or it is already gone."""
    now = stat_object(path)
    if now is None:
        return False
    if now.etag != etag:
        log.warning("%s : remplacé par une nouvelle version pendant son traitement, laissé pour "
                    "le prochain passage", path)
        return False
    path.fs.rm_file(path.path)
    _fresh(path)
    return True


def copy(source: ObjectStoragePath, target: ObjectStoragePath) -> None:
    """A copy made by the store itself: the bytes never pass through the worker."""
    source.fs.copy(source.path, target.path)
