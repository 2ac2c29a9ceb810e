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
a count already written survives its worker being killed.

**Killed attempts.** A file can also kill the process that works on it, so that no exception is
ever raised: the out-of-memory killer, a crash in a C reader, the task's timeout (SIGKILL). The
scheduled scans would then retry it forever. So while a process works on a file it leaves a
mark, ``pannes/<partner>/essais/<fingerprint>/<time>-<random>.json`` (who: host, process id
and start; when; which step), written whole (``write_atomically``, or one object) and removed
however the work ends short of a kill (success, refusal, an exception, which the count above
takes). A mark still there at the next attempt on the same bytes is an interrupted attempt; at
``INCLUSION_MAX_INTERRUPTIONS`` of them (default 3, above the failures' bound since a worker is
also killed when it is stopped or moved by a deploy) the file is quarantined before being read
again, with a report saying its processing was interrupted that many times (most often a file
too large, or damaged in a way that crashes the reader), that nothing was loaded and what to do,
and the stewards get an alert. Its marks are then removed, so a copy dropped again after a fix
gets fresh attempts.

A mark is counted only when its attempt is surely over, not merely elsewhere: two processings
of one file at once are rare (one run of the DAG at a time, a file in one batch of it, a retry
only after its attempt ended) but possible (the same bytes under two names in two batches, a
steward's command). On the machine that wrote it, a mark counts once its process is gone (the
process id is not running, or runs a process started at another time). Process ids mean nothing
on another machine, so there a mark counts once it is older than ``INCLUSION_ATTEMPT_MINUTES``
(default 30, the reception DAG's task timeout: no attempt runs longer). A file killing workers
of several machines is thus quarantined at the latest that long after its third kill. (Workers
in containers must have host names of their own, as they do by default: two containers of one
name could take each other's live attempts for killed ones.) One killed process counts once,
whatever number of marks it left.

Marks are per step of the file's own work, so that the kill is laid on the file being worked
on, not on the files of its batch waiting their turn: its fingerprint and reading (where most
kills happen), its checks, load and report; while the batch is validated together (one Great
Expectations run), every file of the batch carries a mark, since which one caused a kill
there cannot be told.

Bytes that fail again later (a re-drop) are quarantined at their next failure; a successful
processing forgets their count and marks. The net itself may fail (a full disk, the store
unreachable): it then logs and leaves the file where it is, as before, and a mark that cannot
be written does not stop the processing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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


def max_interruptions() -> int:
    return settings.get("INCLUSION_MAX_INTERRUPTIONS")


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
        objects.remove_all(shared / ATTEMPTS / sha256)
        return
    (_folder(paths, partner) / f"{sha256}.jsonl").unlink(missing_ok=True)
    shutil.rmtree(_folder(paths, partner) / ATTEMPTS / sha256, ignore_errors=True)


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
        target = _quarantine(partner, path, sha256, paths,
                             _report(partner, path, sha256, failures, territory),
                             f"{failures} pannes")
        _alert(partner, path, error, failures, target)
        return f"{label} (mis en quarantaine après {failures} pannes)"
    except Exception:  # the net must never hide the first error
        log.exception("%s : le filet de sécurité n'a pas pu mettre le fichier à l'écart", label)
        return label


# Killed attempts ------------------------------------------------------------------------------

ATTEMPTS = "essais"  # under the partner's records: essais/<fingerprint>/<mark>.json
_HOST = socket.gethostname()


@contextmanager
def attempt(paths: DataPaths, files: list[tuple[Partner, Path, str]], step: str
            ) -> Iterator[None]:
    """A mark for each (partner, path, fingerprint) while this process works on them, removed
    however the work ends; only a kill leaves it, for the next attempt to count."""
    marks = [_open_mark(paths, partner, path, sha256, step) for partner, path, sha256 in files]
    try:
        yield
    finally:
        for mark in marks:
            if mark is not None:
                _close_mark(mark)


def quarantine_if_interrupted(partner: Partner, path: Path, sha256: str, paths: DataPaths,
                              territory: Territory) -> str | None:
    """Before a new attempt on these bytes: their earlier attempts killed before they ended.
    At ``INCLUSION_MAX_INTERRUPTIONS`` of them the file is quarantined with a report, the
    stewards are alerted and the marks removed; returns how to name the file in the task's
    failure message then, None when the attempt may go on."""
    label = f"{partner.id}/{path.name}"
    try:
        interrupted = [(mark, body) for mark, body in _marks(paths, partner, sha256)
                       if _abandoned(body)]
        count = len({_attempt_of(mark, body) for mark, body in interrupted})
        if count < max_interruptions() or is_open_for_writing(path):
            return None
        target = _quarantine(partner, path, sha256, paths,
                             _interrupted_report(partner, path, sha256, count, territory),
                             f"{count} interruptions")
        steps = sorted({str(body.get("etape", "?")) for _mark, body in interrupted})
        _alert_interrupted(partner, path, sha256, count, steps, target)
        for mark, _body in interrupted:
            _close_mark(mark)
        return f"{label} (mis en quarantaine après {count} interruptions)"
    except Exception:  # the net must never stop a processing that may succeed
        log.exception("%s : le filet de sécurité n'a pas pu compter les essais interrompus",
                      label)
        return None


def _process_start(pid: int) -> str | None:
    """When the process started (clock ticks since boot, Linux), to tell a reused process id;
    None when it cannot be known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


def _running(pid: int, started: str | None) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    now = _process_start(pid)
    return started is None or now is None or now == started


def _attempt_of(mark, body: dict) -> tuple:
    """Which attempt left a mark: one killed process counts once, even when it held marks on
    the same bytes under two names."""
    if isinstance(body.get("pid"), int):
        return body.get("hote"), body["pid"], body.get("debut")
    return (str(mark),)


def _abandoned(body: dict) -> bool:
    """Whether the attempt that left this mark is over (killed): its process gone on this
    machine; elsewhere, a mark older than any attempt may last."""
    if body.get("hote") == _HOST and isinstance(body.get("pid"), int):
        return not _running(body["pid"], body.get("debut"))
    try:
        written = datetime.fromisoformat(body["le"])
    except (KeyError, TypeError, ValueError):
        return True  # not a mark this code wrote whole: nothing to wait for
    return datetime.now(UTC) - written > timedelta(minutes=settings.get(
        "INCLUSION_ATTEMPT_MINUTES"))


def _open_mark(paths: DataPaths, partner: Partner, path: Path, sha256: str, step: str):
    """The mark of this attempt, written whole; None when it could not be written (logged:
    the processing goes on without it)."""
    body = json.dumps({"le": datetime.now(UTC).isoformat(timespec="microseconds"),
                       "hote": _HOST, "pid": os.getpid(), "debut": _process_start(os.getpid()),
                       "fichier": _shown(path.name), "etape": step}, ensure_ascii=False)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.json"
    try:
        shared = _shared(partner)
        if shared is not None:  # one object per attempt, as the failure records
            mark = shared / ATTEMPTS / sha256 / name
            mark.write_bytes(body.encode("utf-8"))
            return mark
        mark = _folder(paths, partner) / ATTEMPTS / sha256 / name
        for last in (False, True):  # the folder may go with another attempt's last mark
            mark.parent.mkdir(parents=True, exist_ok=True)
            try:
                write_atomically(mark, body)
                return mark
            except FileNotFoundError:
                if last:
                    raise
    except Exception:
        log.exception("%s/%s : le filet de sécurité n'a pas pu marquer l'essai en cours",
                      partner.id, path.name)
        return None


def _close_mark(mark) -> None:
    try:
        if isinstance(mark, Path):
            mark.unlink(missing_ok=True)
            try:
                mark.parent.rmdir()  # the fingerprint's last mark: no empty folder left
            except OSError:
                pass
        else:
            mark.fs.rm_file(mark.path)
    except FileNotFoundError:
        pass
    except Exception:
        log.exception("le filet de sécurité n'a pas pu retirer la marque %s", mark)


def _marks(paths: DataPaths, partner: Partner, sha256: str) -> list[tuple[object, dict]]:
    """The marks left on these bytes, with what they say (an unreadable one says nothing)."""
    shared = _shared(partner)
    if shared is not None:
        from pipeline.storage import objects

        folder = shared / ATTEMPTS / sha256
        found = [(folder / item.name, objects.read_bytes(folder / item.name))
                 for item in objects.list_objects(folder)]
        return [(mark, _parsed(data)) for mark, data in found if data is not None]
    folder = _folder(paths, partner) / ATTEMPTS / sha256
    marks = sorted(folder.glob("[!.]*.json")) if folder.is_dir() else []
    return [(mark, _parsed(mark.read_bytes())) for mark in marks]


def _parsed(data: bytes) -> dict:
    try:
        body = json.loads(data)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


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


def _quarantine(partner: Partner, path: Path, sha256: str, paths: DataPaths, report: str,
                why: str) -> Path:
    """The file out of the inbox with ``report`` beside it (or, when its bytes were committed
    before the trouble, their recorded report with a note); ``why``: after how many what."""
    known = _known(partner, sha256)
    report = _report_when_recorded(known) if known else report
    target = paths.quarantine / partner.id / stored_name(sha256, path.name)
    write_atomically(report_path(path.parent, path.name), report)
    _leave_marker(paths, partner, path, target)
    _file_away(path, target)
    log.error("%s/%s : mis en quarantaine après %s (%s)", partner.id, path.name, why, ledger.STATUS_LABELS.get(known.status, "non traité") if known else
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


def _not_processed(partner: Partner, path: Path, sha256: str, territory: Territory,
                   result: str, why: str, todo: str) -> str:
    """The partner's report on a file set aside unprocessed: ``result`` after « NON TRAITÉ »,
    ``why`` in plain words, what to do."""
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC).astimezone(
        ZoneInfo(territory.timezone))
    return (
        f"Rapport de dépôt — {territory.name}\n\n"
        f"Fichier : {_shown(path.name)}\n"
        f"Partenaire : {partner.name}\n"
        f"Reçu le : {received:%d/%m/%Y à %H:%M}\n"
        f"Empreinte du fichier (SHA-256) : {sha256}\n\n"
        f"Résultat : fichier NON TRAITÉ, {result}\n"
        f"{why} L'équipe de l'agglomération a été prévenue.\n"
        "Aucune ligne de ce fichier n'a été enregistrée. Les données que vous avez envoyées "
        "auparavant restent en place.\n\n"
        f"Que faire : {todo}\n")


def _report(partner: Partner, path: Path, sha256: str, failures: int,
            territory: Territory) -> str:
    return _not_processed(
        partner, path, sha256, territory, "à cause d'un problème interne",
        f"Un problème technique de notre côté a empêché de traiter ce fichier ({failures} "
        "essais). Ce n'est pas forcément une erreur dans votre fichier.",
        "rien pour l'instant. Le fichier a été mis à l'écart ; l'équipe le traitera à nouveau "
        "une fois le problème réglé et vous recevrez alors son rapport. Sans nouvelles de sa "
        "part d'ici quelques jours, écrivez-lui en citant le nom du fichier.")


def _interrupted_report(partner: Partner, path: Path, sha256: str, interruptions: int,
                        territory: Territory) -> str:
    return _not_processed(
        partner, path, sha256, territory,
        f"son traitement s'est interrompu {interruptions} fois",
        f"Le traitement de ce fichier s'est arrêté net {interruptions} fois, sans aller au "
        "bout. Le plus souvent, c'est que le fichier est trop volumineux, ou abîmé d'une façon "
        "qui fait planter sa lecture.",
        "vérifiez que le fichier s'ouvre normalement sur votre poste et que c'est bien celui "
        "que vous vouliez envoyer. S'il est très volumineux, découpez-le en plusieurs fichiers "
        "plus petits et déposez-les à la place de celui-ci. S'il vous semble correct, écrivez à "
        "l'équipe de l'agglomération en citant le nom du fichier : elle le traitera à nouveau "
        "une fois la cause trouvée.")


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
        + _now_in(partner, target) + "Le détail de chaque échec est dans le journal de la tâche "
        f"et dans {_records(partner)}.\n\n"
        + _put_back(partner, path, "corrigez la cause"))


def _alert_interrupted(partner: Partner, path: Path, sha256: str, interruptions: int,
                       steps: list[str], target: Path) -> None:
    raise_alert(
        f"Fichier mis en quarantaine après {interruptions} interruptions : {partner.id}",
        f"Le traitement du fichier « {_shown(path.name)} » de {partner.name} (empreinte "
        f"{sha256[:10]}…) a été tué {interruptions} fois avant d'aller au bout, sans erreur "
        "signalée : mémoire épuisée, plantage du lecteur, délai de la tâche dépassé, ou "
        "worker arrêté pendant le traitement.\n"
        f"Tué pendant : {', '.join(steps)} (voir les journaux de ces tâches).\n"
        + _now_in(partner, target) + "Le partenaire est invité à vérifier ou découper son "
        "fichier.\n\n"
        + _put_back(partner, path, "si le fichier est correct, corrigez la cause (mémoire, "
                    "délai de la tâche)"))


def _now_in(partner: Partner, target: Path) -> str:
    return (f"Il est maintenant dans {_where('quarantine', partner.id, target)}, avec un "
            "rapport au partenaire dans son dossier de dépôt ; rien n'en a été enregistré. ")


def _put_back(partner: Partner, path: Path, fix: str) -> str:
    return (f"Que faire : {fix}, puis recopiez le fichier dans "
            f"{_where('inbox', partner.inbox, path).rsplit('/', 1)[0]} ; il sera traité au "
            "prochain passage.")


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
