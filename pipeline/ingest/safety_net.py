"""The jam safety net: a partner's file always ends archived or quarantined, with a report.

A file that hits an unexpected error (a bug, a broken database, a full disk) stays in its inbox
so that the task's retry tries it again, and the task fails. The same bytes failing every time
would jam the inbox for good and the partner would never hear back. So each unexpected failure
is counted per partner and fingerprint, one record per failed attempt, in the state area
(``INCLUSION_STATE_URL``, unset: ``<data>/etat``) under ``pannes/<partner>/``; at
``INCLUSION_MAX_FAILURES`` failures (default 2) the file is quarantined with a French report
(an internal problem prevented its processing, the team was alerted, nothing was loaded) and the
stewards get an alert. The retry that no longer finds the file fails too
(``quarantined_after_failures``), so the run still shows the failure.

With several workers that share no disk, the state area is on the object store: each failed
attempt is an object of its own (``pannes/<partner>/<fingerprint>/<time>-<random>.json``,
written whole or not at all, never rewritten), so every worker counts the failures of all, and
a count already written survives its worker being killed. A killed attempt is not a failure:
nothing is counted for it (a worker is also killed when it is stopped or moved).

Bytes that fail again later (a re-drop) are quarantined at their next failure; a successful
processing forgets their count. The net itself may fail (a full disk, the store unreachable):
it then logs and leaves the file where it is, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline import settings, storage
from pipeline.alerts import raise_alert
from pipeline.config import DataPaths, Partner, Territory
from pipeline.files import _file_away, sha256_of, stored_name, write_atomically
from pipeline.load import ledger
from pipeline.receive.filestate import is_open_for_writing
from pipeline.report.reports import report_path

log = logging.getLogger(__name__)


def max_failures() -> int:
    return settings.get("INCLUSION_MAX_FAILURES")


def _folder(paths: DataPaths, partner: Partner) -> Path:
    """The partner's failure records when the state area is a local folder (the default:
    ``<data>/etat``)."""
    root = paths.root / "etat" if storage.in_data_folder("state") else storage.local_folder(
        "state")
    return root / "pannes" / partner.id


def _shared(partner: Partner):
    """The partner's failure records on the object store; None when the state area is a
    local folder."""
    if storage.is_local("state"):
        return None
    return storage.area("state") / "pannes" / partner.id


def _marker(paths: DataPaths, partner: Partner, path: Path) -> Path:
    """Left where a quarantined file was listed, for the retry that will not find it."""
    where = hashlib.sha256(os.fsencode(str(path))).hexdigest()[:24]
    return _folder(paths, partner) / f"quarantaine-{where}"


def _shared_marker(paths: DataPaths, partner: Partner, path: Path):
    """The same on the object store, named after the file's place under the working folder
    (the inbox key), which is the same on every worker whatever its data folder."""
    place = path.relative_to(paths.root) if path.is_relative_to(paths.root) else path
    where = hashlib.sha256(os.fsencode(place.as_posix())).hexdigest()[:24]
    return _shared(partner) / f"quarantaine-{where}"


def _fingerprint(path: Path) -> str:
    """The file's SHA-256; when the file cannot even be read, a fingerprint of its name, size
    and time, so that an unreadable file is counted too."""
    try:
        return sha256_of(path)
    except OSError:
        info = path.stat()
        return hashlib.sha256(os.fsencode(f"{path.name}|{info.st_size}|{info.st_mtime_ns}")
                              ).hexdigest()


def _count(paths: DataPaths, partner: Partner, sha256: str, path: Path, error: BaseException
           ) -> int:
    line = json.dumps({"le": datetime.now(UTC).isoformat(timespec="seconds"),
                       "fichier": _shown(path.name), "erreur": repr(error)[:500]},
                      ensure_ascii=False)
    shared = _shared(partner)
    if shared is not None:  # one object per failed attempt: workers never overwrite each other
        from pipeline.storage import objects

        attempts = shared / sha256
        (attempts / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.json"
         ).write_bytes(line.encode("utf-8"))
        return len(objects.list_objects(attempts))
    folder = _folder(paths, partner)
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{sha256}.jsonl"
    with record.open("a", encoding="utf-8") as handle:  # one short append per failed attempt
        handle.write(line + "\n")
    return len(record.read_text(encoding="utf-8").splitlines())


def forget(paths: DataPaths, partner: Partner, sha256: str) -> None:
    """These bytes were processed: their earlier failures no longer count."""
    shared = _shared(partner)
    if shared is not None:
        from pipeline.storage import objects

        objects.remove_all(shared / sha256)
        return
    (_folder(paths, partner) / f"{sha256}.jsonl").unlink(missing_ok=True)


def note_failure(partner: Partner, path: Path, error: BaseException, paths: DataPaths,
                 territory: Territory) -> str:
    """Count an unexpected failure of ``path``; at the bound, quarantine it with a report and
    alert the stewards. Returns how to name the file in the task's failure message."""
    label = f"{partner.id}/{path.name}"
    try:
        sha256 = _fingerprint(path)
        failures = _count(paths, partner, sha256, path, error)
        if failures < max_failures() or is_open_for_writing(path):
            return label  # never move a file still being written: it would go on in there
        target = _quarantine(partner, path, sha256, failures, paths, territory)
        _alert(partner, path, error, failures, target)
        return f"{label} (mis en quarantaine après {failures} pannes)"
    except Exception:  # the net must never hide the first error
        log.exception("%s : le filet de sécurité n'a pas pu mettre le fichier à l'écart", label)
        return label


def quarantined_after_failures(paths: DataPaths, partner: Partner, path: Path) -> bool:
    """Whether ``path``, listed but gone, was quarantined by the net (once: the marker goes)."""
    if _shared(partner) is not None:
        from pipeline.storage import objects

        marker = _shared_marker(paths, partner, path)
        if objects.stat_object(marker) is None:
            return False
        marker.fs.rm_file(marker.path)
        return True
    marker = _marker(paths, partner, path)
    if not marker.exists():
        return False
    marker.unlink(missing_ok=True)
    return True


def _leave_marker(paths: DataPaths, partner: Partner, path: Path, target: Path) -> None:
    if _shared(partner) is not None:
        _shared_marker(paths, partner, path).write_bytes(str(target).encode("utf-8"))
        return
    _marker(paths, partner, path).parent.mkdir(parents=True, exist_ok=True)
    _marker(paths, partner, path).write_text(str(target), encoding="utf-8")


def _quarantine(partner: Partner, path: Path, sha256: str, failures: int, paths: DataPaths,
                territory: Territory) -> Path:
    known = _known(partner, sha256)
    report = (_report_when_recorded(known) if known else
              _report(partner, path, sha256, failures, territory))
    target = paths.quarantine / partner.id / stored_name(sha256, path.name)
    write_atomically(report_path(path.parent, path.name), report)
    _leave_marker(paths, partner, path, target)
    _file_away(path, target)
    log.error("%s/%s : mis en quarantaine après %d pannes (%s)", partner.id, path.name,
              failures, ledger.STATUS_LABELS.get(known.status, "non traité") if known else
              "non traité")
    return target


def _known(partner: Partner, sha256: str):
    """The ledger entry of these bytes, when the failure came after their commit."""
    try:
        return ledger.find(partner.id, sha256)
    except Exception:  # the database may be what fails: then nothing is known to be loaded
        log.exception("registre illisible")
        return None


def _shown(name: str) -> str:
    """A name as the partner sees it, even with bytes that are not UTF-8."""
    return os.fsencode(name).decode("utf-8", "replace")


def _report(partner: Partner, path: Path, sha256: str, failures: int,
            territory: Territory) -> str:
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC).astimezone(
        ZoneInfo(territory.timezone))
    return (
        f"Rapport de dépôt — {territory.name}\n\n"
        f"Fichier : {_shown(path.name)}\n"
        f"Partenaire : {partner.name}\n"
        f"Reçu le : {received:%d/%m/%Y à %H:%M}\n"
        f"Empreinte du fichier (SHA-256) : {sha256}\n\n"
        "Résultat : fichier NON TRAITÉ, à cause d'un problème interne\n"
        f"Un problème technique de notre côté a empêché de traiter ce fichier ({failures} "
        "essais). Ce n'est pas forcément une erreur dans votre fichier. L'équipe de "
        "l'agglomération a été prévenue.\n"
        "Aucune ligne de ce fichier n'a été enregistrée. Les données que vous avez envoyées "
        "auparavant restent en place.\n\n"
        "Que faire : rien pour l'instant. Le fichier a été mis à l'écart ; l'équipe le traitera "
        "à nouveau une fois le problème réglé et vous recevrez alors son rapport. Sans "
        "nouvelles de sa part d'ici quelques jours, écrivez-lui en citant le nom du fichier.\n")


def _report_when_recorded(known) -> str:
    return known.report + (
        "\nNote : ce fichier a bien été traité (résultat ci-dessus), mais un problème technique "
        "de notre côté a empêché de le ranger. Il a été mis à l'écart et l'équipe de "
        "l'agglomération a été prévenue. Vous n'avez rien à faire.\n")


def _alert(partner: Partner, path: Path, error: BaseException, failures: int,
           target: Path) -> None:
    raise_alert(
        f"Fichier mis en quarantaine après {failures} pannes : {partner.id}",
        f"Le fichier « {_shown(path.name)} » de {partner.name} a échoué {failures} fois sur une "
        f"erreur inattendue : {error!r}\n"
        f"Il est maintenant dans {_where('quarantine', partner.id, target)}, avec un rapport "
        "au partenaire dans son dossier de dépôt ; rien n'en a été enregistré. Le détail de "
        f"chaque échec est dans le journal de la tâche et dans {_records(partner)}.\n\n"
        "Que faire : corrigez la cause, puis recopiez le fichier dans "
        f"{_where('inbox', partner.inbox, path).rsplit('/', 1)[0]} ; il sera traité au prochain "
        "passage.")


def _records(partner: Partner) -> str:
    """Where a steward reads the failure records."""
    if storage.in_data_folder("state"):
        return "le dossier etat/pannes/ des données"
    return f"{storage.area_url('state')}/pannes/{partner.id}/"


def _where(area: str, folder: str, local: Path) -> str:
    """Where a steward finds the file: its place in the data folder, or on the object store
    (``pipeline.ingest.objects`` copies it there, under the same name)."""
    if storage.in_data_folder(area):
        return str(local)
    return f"{storage.area_url(area)}/{folder}/{local.name}"
