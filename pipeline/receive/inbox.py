"""Scanning the partners' inbox folders for new files, safely.

On an object store (``INCLUSION_INBOX_URL=s3://…``) the same rules hold for the objects under
``<inbox>/<partner folder>/``: an object whose key goes deeper (a "sub-folder") is refused like a
folder, settle time is measured from its ``LastModified``, and an object larger than the size
limits is refused with its report and moved to the quarantine by the store, never read. An
upload only becomes an object once complete, so there is nothing "held open for writing".
Candidates then name the key under the inbox area and carry its ETag (``pipeline.ingest.objects``
copies each one to the worker's working folder to process it).

Only regular files directly inside a partner's folder are candidates. Symbolic links,
sub-folders, devices, sockets and names that try to escape the folder are refused: the partner
gets a report saying why, and nothing is read through them. Reports written back by the pipeline
(``*.rapport.txt``), hidden files and names that spreadsheets and browsers use while a file is
still being written are left alone.

A file still being copied is never listed: not one modified in the last
``INCLUSION_SETTLE_SECONDS`` (default 30; a slow upload pauses between chunks), nor one that a
process on this machine holds open for writing (Linux, best effort through ``/proc``; see
``pipeline.receive.filestate``). Processing checks again that the file did not change while it was
read (``pipeline.ingest``). Names written back fit the file system (``pipeline.files``).
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline import settings, storage
from pipeline.config import DataPaths, Partner, Territory, data_paths, load_territory
from pipeline.files import ELLIPSIS, REPORT_SUFFIX, report_name, stored_name, write_atomically
from pipeline.receive.filestate import files_open_for_writing
from pipeline.receive.filing import SPLIT_ADVICE, detect_dataset, oversize_reason_for

TEMPORARY_MARKERS = (".part", ".tmp", ".crdownload", ".partial", ".download", "~")
DATASET_ORDER = ("lieux", "collecte", "ateliers", "pass", "tri")  # referenced data first
# Data other files refer to (venues for passes, pickups for the refurbisher's sorting): loaded
# in a first wave so that cross-file checks see it whatever order tasks run in.
REFERENCE_DATASETS = {"lieux", "collecte"}
# A batch is validated in one Great Expectations run per dataset and held in memory while its
# files load: these bound it. XLSX files are zipped, so their rows weigh about 5 times their
# bytes once read.
XLSX_WEIGHT = 5
# Airflow keeps a mapped task's label in a 250-character column (PostgreSQL enforces it).
LABEL_MAX_CHARS = 200


@dataclass(frozen=True)
class Candidate:
    """A file to process: its path, or on an object store its key under the inbox area
    (``<partner folder>/<name>``) and the ETag of the version listed."""
    partner: str
    path: str
    size: int
    etag: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


FOLDER_ADVICE = ("Déposez vos fichiers (CSV ou XLSX) directement dans votre dossier de dépôt, "
                 "sans sous-dossier ni raccourci.")


@dataclass(frozen=True)
class Refusal:
    partner: str
    name: str
    reason: str
    advice: str = FOLDER_ADVICE
    etag: str = ""  # an object too big: moved to the quarantine after its report, if unchanged


def settle_seconds() -> float:
    return settings.get("INCLUSION_SETTLE_SECONDS")


def is_ignored_name(name: str) -> bool:
    lower = name.lower()
    return (lower.endswith(REPORT_SUFFIX) or name.startswith((".", "~$"))
            or lower.endswith(TEMPORARY_MARKERS))


def _refusal_reason(name: str, mode: int) -> str | None:
    if "/" in name or "\\" in name or name in ("..", ".") or "\x00" in name:
        return "ce nom de fichier n'est pas autorisé"
    if stat.S_ISLNK(mode):
        return "c'est un raccourci (lien symbolique), pas un fichier"
    if stat.S_ISDIR(mode):
        return "c'est un dossier ; déposez les fichiers directement dans votre dossier"
    if not stat.S_ISREG(mode):
        return "ce n'est pas un fichier ordinaire"
    return None


def _settled_files(folder: Path, partner_id: str, now: float | None
                   ) -> tuple[list[tuple[Candidate, os.stat_result]], list[Refusal]]:
    now = time.time() if now is None else now
    settle = settle_seconds()
    settled, refusals = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_ignored_name(entry.name):
                continue
            info = entry.stat(follow_symlinks=False)
            reason = _refusal_reason(entry.name, info.st_mode)
            if reason:
                refusals.append(Refusal(partner_id, entry.name, reason))
            elif now - info.st_mtime >= settle:
                settled.append((Candidate(partner_id, str(Path(entry.path)), info.st_size),
                                info))
    return settled, refusals


def _not_being_written(settled: list[tuple[Candidate, os.stat_result]]) -> list[Candidate]:
    """One look through ``/proc`` for all the files at once (a few milliseconds)."""
    busy = files_open_for_writing({(info.st_dev, info.st_ino) for _, info in settled})
    return [candidate for candidate, info in settled if (info.st_dev, info.st_ino) not in busy]


def report_refusals(refusals: list[Refusal], territory: Territory | None = None,
                    paths: DataPaths | None = None) -> None:
    """Tell the partner, beside the refused entry, why nothing was read from it."""
    territory = territory or load_territory()
    paths = paths or data_paths()
    local = storage.is_local("inbox")
    for refusal in refusals:
        partner = territory.partner(refusal.partner)
        text = (f"Rapport de dépôt — {territory.name}\n\n"
                f"Élément : {refusal.name}\nPartenaire : {partner.name}\n\n"
                f"Résultat : REFUSÉ sans être lu, car {refusal.reason}.\n{refusal.advice}\n")
        write_in_inbox(partner, report_name(refusal.name), text, paths)
        if not local and refusal.etag:
            _quarantine_object(partner, refusal)


def write_in_inbox(partner: Partner, name: str, text: str,
                   paths: DataPaths | None = None) -> None:
    """A text the partner reads in its inbox (a report, a withdrawal request): written
    atomically in its local folder, or as one whole object in the inbox area on the store."""
    if storage.is_local("inbox"):
        folder = (paths or data_paths()).partner_inbox(partner)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / name, text)
    else:
        from pipeline.storage import objects

        objects.write_text(partner_folder(partner) / name, text)


def _quarantine_object(partner: Partner, refusal: Refusal) -> None:
    """An object too big goes to the quarantine, copied by the store (never read) and named
    after its ETag, as it has no fingerprint."""
    from pipeline.storage import objects

    source = partner_folder(partner) / refusal.name
    objects.copy(source, storage.area("quarantine") / partner.id
                 / stored_name(refusal.etag.replace("-", ""), refusal.name))
    objects.delete_if_unchanged(source, refusal.etag)


def partner_folder(partner: Partner):
    """The partner's inbox folder on the object store (an ``ObjectStoragePath``)."""
    return storage.area("inbox") / partner.inbox


def _settled_objects(partner: Partner, now: float | None
                     ) -> tuple[list[Candidate], list[Refusal]]:
    """The objects of a partner's inbox folder, as ``_settled_files`` sees files: a key one
    level deeper is a sub-folder (one refusal for it), the names the scan ignores are
    ignored, an object too big is refused; the rest is a candidate once settled."""
    from pipeline.storage import objects

    now = time.time() if now is None else now
    settle = settle_seconds()
    candidates, refusals, folders = [], [], set()
    for found in objects.list_objects(partner_folder(partner)):
        name, deeper, _rest = found.name.partition("/")
        if not name or is_ignored_name(name) or name in folders:  # "" : the folder's marker
            continue
        reason = _refusal_reason(name, stat.S_IFDIR if deeper else stat.S_IFREG)
        too_big = oversize_reason_for(name, found.size, unread=True)
        if deeper:
            folders.add(name)
            refusals.append(Refusal(partner.id, name, reason))
        elif reason:
            refusals.append(Refusal(partner.id, name, reason))
        elif too_big:
            refusals.append(Refusal(partner.id, name, too_big[0].lower() + too_big[1:-1],
                                    SPLIT_ADVICE, found.etag))
        elif now - found.modified >= settle:
            candidates.append(Candidate(partner.id, f"{partner.inbox}/{name}", found.size,
                                        found.etag))
    return candidates, refusals


def _dataset_rank(candidate: Candidate, territory: Territory) -> int:
    datasets = territory.partner(candidate.partner).datasets
    ranks = [DATASET_ORDER.index(d) for d in datasets if d in DATASET_ORDER]
    return min(ranks, default=len(DATASET_ORDER))


def scan_inboxes(territory: Territory | None = None, paths: DataPaths | None = None,
                 refusals: list[Refusal] | None = None) -> list[Candidate]:
    """New files, venues and pickups first so that files referring to them can be checked."""
    territory = territory or load_territory()
    paths = paths or data_paths()
    if not storage.is_local("inbox"):
        found = []
        for partner in territory.partners:
            ready, refused = _settled_objects(partner, None)
            found += ready
            if refusals is not None:
                refusals += refused
        return sorted(found, key=lambda c: (_dataset_rank(c, territory), c.partner, c.path))
    settled: list[tuple[Candidate, os.stat_result]] = []
    for partner in territory.partners:
        folder = paths.partner_inbox(partner)
        folder.mkdir(parents=True, exist_ok=True)
        ready, refused = _settled_files(folder, partner.id, None)
        settled += ready
        if refusals is not None:
            refusals += refused
    found = _not_being_written(settled)
    return sorted(found, key=lambda c: (_dataset_rank(c, territory), c.partner, c.path))


def split_waves(candidates: list[Candidate], territory: Territory | None = None
                ) -> tuple[list[Candidate], list[Candidate]]:
    """Files of partners that only send reference data, then every other file."""
    territory = territory or load_territory()
    first = [c for c in candidates
             if set(territory.partner(c.partner).datasets) <= REFERENCE_DATASETS]
    return first, [c for c in candidates if c not in first]


def _weight_mb(candidate: Candidate) -> float:
    zipped = Path(candidate.path).suffix.lower() in (".xlsx", ".xlsm")
    return candidate.size * (XLSX_WEIGHT if zipped else 1) / 1_000_000


def plan_batches(candidates: list[Candidate], territory: Territory | None = None
                 ) -> list[dict]:
    """The candidates in batches of files of one dataset (as their partner and name say), in
    listing order, each within ``INCLUSION_BATCH_MB`` and ``INCLUSION_BATCH_FILES``. One Airflow
    task per batch: GX then runs once per batch instead of once per file, memory stays bounded, and
    several batches can still run side by side."""
    territory = territory or load_territory()
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        dataset, _refusal = detect_dataset(territory.partner(candidate.partner),
                                           Path(candidate.path))
        groups.setdefault(dataset or "?", []).append(candidate)
    batches: list[dict] = []
    for dataset, members in groups.items():
        current: list[Candidate] = []
        weight = 0.0
        max_files = settings.get("INCLUSION_BATCH_FILES")
        max_mb = settings.get("INCLUSION_BATCH_MB")
        for candidate in members:
            if current and (len(current) >= max_files
                            or weight + _weight_mb(candidate) > max_mb):
                batches.append(_batch(dataset, current))
                current, weight = [], 0.0
            current.append(candidate)
            weight += _weight_mb(candidate)
        batches.append(_batch(dataset, current))
    return batches


def _batch(dataset: str, members: list[Candidate]) -> dict:
    first = members[0]
    label = (f"{first.partner}/{Path(first.path).name}" if len(members) == 1 else
             f"{dataset} : {len(members)} fichiers, de {first.partner}/{Path(first.path).name}")
    if len(label) > LABEL_MAX_CHARS:
        label = label[:LABEL_MAX_CHARS - 1] + ELLIPSIS
    return {"lot": label, "fichiers": [m.as_dict() for m in members]}
