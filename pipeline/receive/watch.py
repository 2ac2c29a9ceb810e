"""Is there anything for ``reception_fichiers`` to do? Its cheap first step, every 30 seconds.

The DAG runs every 30 seconds so that a partner gets the report of a small file within a minute
of the drop. Most runs find nothing new: this check lists the inbox folders (names, sizes,
modification times, inodes: no file is opened) and compares the listing with the one the last
full run started from, kept in ``<data>/etat/depots.json``. The rest of the DAG (pulled sources,
scan, batches) only runs when:

- a file is new or changed since that listing and is complete: settled for
  ``INCLUSION_SETTLE_SECONDS`` and held open for writing by no process (the same rules as
  ``pipeline.receive.inbox``). A file still settling is not recorded, so a later check takes it
  once it has settled; when it settles within ``MAX_WAIT_SECONDS`` the check waits for it rather
  than leaving it to the next run;
- or the last full run is ``FULL_SCAN_SECONDS`` old (the former 5-minute schedule): sources
  published at a web address are pulled, and a file left in an inbox by a failed run is tried
  again, as before.

On an object store (``INCLUSION_INBOX_URL``) the listing is of the objects under each partner's
folder (size, ``LastModified``, ETag; ``pipeline.storage.objects``), with the same rules.

Reports written beside the files (``*.rapport.txt``) and the other names the scan ignores are not
part of the listing: writing a report never triggers another run. Removed or archived files are
not a reason to run either.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import storage
from pipeline.config import DataPaths, Territory, data_paths, load_territory
from pipeline.files import write_atomically
from pipeline.receive.filestate import files_open_for_writing
from pipeline.receive.inbox import is_ignored_name, partner_folder, settle_seconds

POLL_SECONDS = 30  # the schedule of reception_fichiers (dags/ingest_inbox.py; a test checks)
FULL_SCAN_SECONDS = 300
MAX_WAIT_SECONDS = 60

Signature = tuple[int, int, int]  # size, mtime in ns, inode


@dataclass(frozen=True)
class Entry:
    signature: Signature
    device: int
    mtime: float
    regular: bool


@dataclass
class Decision:
    proceed: bool
    reason: str
    ready: dict[str, Signature] = field(default_factory=dict)  # the listing to record
    wait_seconds: float = 0.0  # a new file settles in that many seconds


def state_file(paths: DataPaths) -> Path:
    return paths.root / "etat" / "depots.json"


def list_inboxes(territory: Territory, paths: DataPaths) -> dict[str, Entry]:
    """Every entry the scan would look at, as ``partner/name``; no file is opened."""
    if not storage.is_local("inbox"):
        return _list_objects(territory)
    entries: dict[str, Entry] = {}
    for partner in territory.partners:
        try:
            with os.scandir(paths.partner_inbox(partner)) as found:
                for entry in found:
                    if is_ignored_name(entry.name):
                        continue
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:  # archived meanwhile
                        continue
                    entries[f"{partner.id}/{entry.name}"] = Entry(
                        (info.st_size, info.st_mtime_ns, info.st_ino), info.st_dev,
                        info.st_mtime, stat.S_ISREG(info.st_mode))
        except FileNotFoundError:  # the scan creates the folder
            continue
    return entries


def _list_objects(territory: Territory) -> dict[str, Entry]:
    """The same on an object store: a version is its size, ``LastModified`` and ETag (in
    place of the inode); a key deeper than the partner's folder stands for its sub-folder."""
    from pipeline.storage import objects

    entries: dict[str, Entry] = {}
    for partner in territory.partners:
        for found in objects.list_objects(partner_folder(partner)):
            name, deeper, _rest = found.name.partition("/")
            if not name or is_ignored_name(name):
                continue
            version = int(hashlib.sha256(found.etag.encode()).hexdigest()[:15], 16)
            key = f"{partner.id}/{name}"
            if deeper:  # one entry per sub-folder, changed by any object in it
                version ^= entries[key].signature[2] if key in entries else 0
            entries[key] = Entry((found.size, int(found.modified * 1e9), version), 0,
                                 found.modified, not deeper)
    return entries


def _load_state(paths: DataPaths) -> dict:
    try:
        state = json.loads(state_file(paths).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"listing": {}, "full_scan_at": 0.0}
    return {"listing": {k: tuple(v) for k, v in state.get("listing", {}).items()},
            "full_scan_at": float(state.get("full_scan_at", 0.0))}


def decide(territory: Territory | None = None, paths: DataPaths | None = None,
           now: float | None = None, full: bool = False) -> Decision:
    territory = territory or load_territory()
    paths = paths or data_paths()
    now = time.time() if now is None else now
    settle = settle_seconds()
    state = _load_state(paths)
    entries = list_inboxes(territory, paths)
    # Refused entries (links, folders) need no settle time: their report says why at once.
    settling = {k: e for k, e in entries.items() if e.regular and now - e.mtime < settle}
    complete = {k: e for k, e in entries.items() if k not in settling}
    new = {k: e for k, e in complete.items() if state["listing"].get(k) != e.signature}
    if new and storage.is_local("inbox"):  # on an object store, an upload is whole or absent
        busy = files_open_for_writing({(e.device, e.signature[2]) for e in new.values()})
        held = {k for k, e in complete.items() if (e.device, e.signature[2]) in busy}
        complete = {k: e for k, e in complete.items() if k not in held}
        new = {k: e for k, e in new.items() if k not in held}
    ready = {k: e.signature for k, e in complete.items()}
    if new:
        return Decision(True, f"{len(new)} fichier(s) nouveau(x) ou modifié(s) : "
                              f"{', '.join(sorted(new)[:5])}", ready)
    if full:
        return Decision(True, "passage complet demandé (exécution lancée à la main)", ready)
    if now - state["full_scan_at"] >= FULL_SCAN_SECONDS:
        return Decision(True, "passage complet périodique (sources en ligne, fichiers restés "
                              "dans les dossiers de dépôt)", ready)
    wait = min((settle - (now - e.mtime) for e in settling.values()), default=0.0)
    return Decision(False, "rien de nouveau dans les dossiers de dépôt"
                    + (f" ({len(settling)} fichier(s) en cours de dépôt)" if settling else ""),
                    wait_seconds=max(wait, 0.0))


def record(decision: Decision, paths: DataPaths | None = None, now: float | None = None) -> None:
    """Remember the listing a full run starts from."""
    paths = paths or data_paths()
    target = state_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, json.dumps({
        "full_scan_at": time.time() if now is None else now,
        "listing": {k: list(v) for k, v in sorted(decision.ready.items())}}, indent=1))


def check_inboxes(full: bool = False, sleep=time.sleep) -> bool:
    """The short-circuit of ``reception_fichiers``: True when the full run should go on (always
    for a run started by hand, ``full``). A new file that settles within ``MAX_WAIT_SECONDS`` is
    waited for, then taken by this run."""
    decision = decide(full=full)
    if not decision.proceed and 0 < decision.wait_seconds <= MAX_WAIT_SECONDS:
        print(f"{decision.reason} ; attente de {decision.wait_seconds:.0f} s")
        sleep(decision.wait_seconds + 0.5)
        decision = decide()
    print(decision.reason)
    if decision.proceed:
        record(decision)
    return decision.proceed
