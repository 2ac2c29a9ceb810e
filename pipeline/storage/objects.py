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
    written meanwhile (it stays, for the next run) or it is already gone.

    The store is asked for a conditional delete (``If-Match`` on DeleteObject: AWS S3 on
    general-purpose buckets, moto's server): a version written after the check below is then
    kept by the store itself. A store that refuses the condition (``NotImplemented``…) gets
    the plain delete, right after the ETag was checked here."""
    now = stat_object(path)
    if now is None:
        return False
    if now.etag != etag:
        log.warning("%s : remplacé par une nouvelle version pendant son traitement, laissé pour "
                    "le prochain passage", path)
        return False
    try:
        if not _on_s3(path):
            raise _Unsupported
        deleted = _conditional(path, "delete_object", IfMatch=f'"{etag}"')
    except _Unsupported:
        path.fs.rm_file(path.path)
        deleted = True
    _fresh(path)
    if not deleted:
        log.warning("%s : remplacé par une nouvelle version juste avant sa suppression, laissé "
                    "pour le prochain passage", path)
    return deleted


def create_exclusive(path: ObjectStoragePath, data: bytes) -> bool:
    """Write the object only if there is none (``If-None-Match: *``): False when another
    writer made it first. On a local folder, an exclusive create of the file."""
    if not _on_s3(path):
        return _create_local(Path(path.path), data)
    try:
        return _conditional(path, "put_object", Body=data, IfNoneMatch="*")
    except _Unsupported:
        return _write_if(path, data, lambda now: now is None)
    finally:
        _fresh(path)


def replace_if_unchanged(path: ObjectStoragePath, data: bytes, etag: str) -> bool:
    """Overwrite the object only if it is still the version ``etag`` (``If-Match``): False
    when another writer replaced or removed it first."""
    try:
        if _on_s3(path):
            return _conditional(path, "put_object", Body=data, IfMatch=f'"{etag}"')
    except _Unsupported:
        pass
    finally:
        _fresh(path)
    return _write_if(path, data, lambda now: now is not None and now.etag == etag)


def _write_if(path: ObjectStoragePath, data: bytes, condition) -> bool:
    """Where the store cannot check a condition: checked here, then written."""
    if not condition(stat_object(path)):
        return False
    path.write_bytes(data)
    _fresh(path)
    return True


class _Unsupported(Exception):
    """The store does not know the condition asked for."""


# The condition failed, or the object is gone: another writer was first.
_LOST = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "409", "412")
_UNKNOWN = ("NotImplemented", "501")


def _on_s3(path: ObjectStoragePath) -> bool:
    return hasattr(path.fs, "call_s3")


def _conditional(path: ObjectStoragePath, method: str, **arguments) -> bool:
    """One S3 request with a condition: True when done, False when the condition failed (or
    the object is gone), ``_Unsupported`` when the store does not know the condition."""
    bucket, key, _version = path.fs.split_path(path.path)
    try:
        path.fs.call_s3(method, Bucket=bucket, Key=key, **arguments)
    except Exception as error:  # s3fs turns the store's answer into an OSError: its cause
        answer = _store_answer(error)
        if answer is None:
            raise
        code, status = answer
        if code in _LOST or (status in _LOST and not code):
            return False
        if code in _UNKNOWN or status in _UNKNOWN:
            log.info("%s : le stockage ne connaît pas la requête conditionnelle %s (%s)", path,
                     method, code or status)
            raise _Unsupported from error
        raise
    return True


def _store_answer(error: BaseException) -> tuple[str, str] | None:
    """(error code, HTTP status) of the store's answer behind ``error``, if it is one."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        response = getattr(error, "response", None)
        if isinstance(response, dict) and "Error" in response:
            return (str(response["Error"].get("Code", "")),
                    str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")))
        error = error.__cause__ or error.__context__
    return None


def _create_local(target: Path, data: bytes) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("xb") as handle:
            handle.write(data)
    except FileExistsError:
        return False
    return True


def read_bytes(path: ObjectStoragePath) -> bytes | None:
    """The object's bytes; None when there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def copy(source: ObjectStoragePath, target: ObjectStoragePath) -> None:
    """A copy made by the store itself: the bytes never pass through the worker."""
    source.fs.copy(source.path, target.path)


def transfer(source: ObjectStoragePath, target: ObjectStoragePath) -> None:
    """Copy an object to another area: by the store itself when both are on it, streamed
    through the worker otherwise (an object appears whole or not at all)."""
    if _on_s3(source) and _on_s3(target):
        copy(source, target)
        return
    with source.open("rb") as remote, target.open("wb") as local:
        shutil.copyfileobj(remote, local, BLOCK)


def remove_all(folder: ObjectStoragePath) -> None:
    """Every object under ``folder`` removed (none there: nothing to do)."""
    for item in list_objects(folder):
        try:
            (folder / item.name).fs.rm_file((folder / item.name).path)
        except FileNotFoundError:
            continue
    _fresh(folder)
