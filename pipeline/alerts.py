"""Steward alerts: a failed task writes a French alert file into the alerts area (the data
folder's ``alertes/``, or ``INCLUSION_ALERTS_URL`` on an object store) and the task log, and
sends an e-mail when SMTP is configured (``INCLUSION_SMTP_HOST``, ``_PORT``, ``_FROM``,
``_TO``). Alerts never raise: a broken mail server must not hide the first failure.

An alert reaches the object store (its repeat marker, then its file) within STORE_SECONDS or
not at all: a store that accepts connections but does not answer would otherwise hold the
failure callback until Airflow kills the task process (``[core] task_success_overtime``, 20 s
after the task reported its failure), and the alert would be lost. Past that time the alert goes
to the worker's own data folder, as when the store refuses it."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import smtplib
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from pipeline import settings, storage
from pipeline.config import REPO_ROOT, data_paths
from pipeline.files import write_atomically

log = logging.getLogger(__name__)
# Seconds the store has, in all, to take an alert's marker and file (see the docstring).
STORE_SECONDS = 8


def alerts_folder() -> Path:
    return data_paths().root / "alertes"


def raise_alert(subject: str, body: str, now: datetime | None = None,
                repeat_key: str | None = None) -> Path | None:
    """Write the alert file, log it and mail it; None, with a log line only, when an alert of
    the same ``repeat_key`` went out less than INCLUSION_ALERT_REPEAT_HOURS ago."""
    now = now or datetime.now(UTC)
    folder = alerts_folder()
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + STORE_SECONDS
    if repeat_key is not None and _repeated(repeat_key, now, deadline):
        log.error("ALERTE (déjà envoyée, répétition non renvoyée) : %s — %s", subject, body)
        return None
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in subject)[:80]
    text = f"{subject}\n\n{body}\n"
    path = None if storage.in_data_folder("alerts") else _write_to_store(now, safe, text,
                                                                          deadline)
    if path is None:
        path = _new_name(folder, now, safe, Path.exists)
        write_atomically(path, text)
    log.error("ALERTE : %s — %s", subject, body)
    _send_mail(subject, body)
    return path


def _new_name(folder, now: datetime, safe: str, exists):
    """The alert's name; two alerts of one subject in the same second both stay."""
    path = folder / f"{now:%Y%m%dT%H%M%S}-{safe}.txt"
    for number in range(2, 100):
        if not exists(path):
            break
        path = folder / f"{now:%Y%m%dT%H%M%S}-{safe}-{number}.txt"
    return path


def _write_to_store(now: datetime, safe: str, text: str, deadline: float):
    """The alert as an object of the alerts area (``INCLUSION_ALERTS_URL``); None when the
    store cannot be written before ``deadline`` (unreachable, for instance): the alert then
    goes to the data folder, since an alert must never be lost nor raise."""
    def write():
        path = _new_name(storage.area("alerts"), now, safe, lambda p: p.exists())
        path.write_bytes(text.encode("utf-8"))
        return path

    try:
        return _before(deadline, write)
    except Exception:
        log.exception("alerte non écrite dans %s ; écrite dans le dossier de données",
                      storage.area_url("alerts"))
        return None


def _before(deadline: float, function, *arguments):
    """``function(*arguments)``, given until ``deadline`` (``time.monotonic``); TimeoutError
    after that. The call runs in a daemon thread, left behind when it is late: it ends with the
    process at the latest, and what it still writes is at worst a second copy of the alert."""
    if time.monotonic() >= deadline:  # an earlier step of this alert used the time up
        raise TimeoutError(f"le stockage objet n'a pas répondu en {STORE_SECONDS} s")
    outcome: dict = {}

    def call():
        try:
            outcome["value"] = function(*arguments)
        except BaseException as error:  # handed to the caller
            outcome["error"] = error

    worker = threading.Thread(target=call, name="alerte-stockage", daemon=True)
    worker.start()
    worker.join(max(deadline - time.monotonic(), 0))
    if worker.is_alive():
        raise TimeoutError(f"le stockage objet n'a pas répondu en {STORE_SECONDS} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _repeated(key: str, now: datetime, deadline: float) -> bool:
    """Whether this alert went out within the repeat window; if not, remember it now.

    The markers are in the state area's ``alertes-envoyees/`` (``INCLUSION_STATE_URL``,
    unset: ``<data>/etat``, beside the inbox watch's state rather than among the alerts
    stewards read). In a local folder, a marker's modification time is the last sending. On an
    object store, shared by every worker, a marker holds the time of the last sending and is
    written only on a condition (created if absent, replaced if unchanged), so that of two
    workers raising the same alert at once only one sends it. When the store cannot be reached
    the worker's own data folder keeps the marker, as with one machine."""
    name = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()
    window = settings.get("INCLUSION_ALERT_REPEAT_HOURS") * 3600
    if not storage.is_local("state"):
        try:
            return _before(deadline, _repeated_on_store,
                           storage.area("state") / "alertes-envoyees" / name, now, window)
        except Exception:
            log.exception("marque d'alerte non lue dans %s ; gardée dans le dossier de données",
                          storage.area_url("state"))
    folder = storage.local_folder("state") / "alertes-envoyees"
    marker = folder / name
    try:
        if now.timestamp() - marker.stat().st_mtime < window:
            return True
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
    marker.touch()
    os.utime(marker, (now.timestamp(), now.timestamp()))
    return False


def _repeated_on_store(marker, now: datetime, window: float) -> bool:
    from pipeline.storage import objects

    sending = json.dumps({"envoyee_le": now.isoformat(), "par": uuid.uuid4().hex}).encode()
    for _ in range(5):
        seen = objects.stat_object(marker)
        if seen is None:
            if objects.create_exclusive(marker, sending):
                return False
            continue  # another worker sent it just now: read its marker
        stored = objects.read_bytes(marker)
        try:
            sent = datetime.fromisoformat(json.loads(stored or b"{}")["envoyee_le"])
        except (ValueError, KeyError, TypeError):
            sent = None  # a marker cut short or foreign: as if the window had passed
        if sent is not None and now.timestamp() - sent.timestamp() < window:
            return True
        if objects.replace_if_unchanged(marker, sending, seen.etag):
            return False
    return True  # other workers keep renewing it: one of them sent it


def _send_mail(subject: str, body: str) -> None:
    recipients = settings.get("INCLUSION_SMTP_TO")
    if recipients:
        send_mail(recipients, subject, body)


def smtp_configured() -> bool:
    return bool(settings.get("INCLUSION_SMTP_HOST"))


def send_mail(recipients: str, subject: str, body: str) -> bool:
    """One plain-text French e-mail through the configured SMTP server; False (and a log line)
    when it could not be sent or no server is configured."""
    host = settings.get("INCLUSION_SMTP_HOST")
    if not host:
        return False
    message = EmailMessage()
    message["Subject"] = f"[Numérique pour tous] {subject}"
    message["From"] = settings.get("INCLUSION_SMTP_FROM")
    message["To"] = recipients
    message.set_content(body)
    try:
        with smtplib.SMTP(host, settings.get("INCLUSION_SMTP_PORT"), timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("courriel non envoyé à %s : %s", recipients, exc)
        return False
    return True


@contextmanager
def failing_step(label: str) -> Iterator[None]:
    """Tag an exception raised inside with the French name of the step it interrupted
    (``failed_step``), so that the steward's alert can say where it failed."""
    try:
        yield
    except Exception as error:
        if getattr(error, "failed_step", None) is None:
            error.failed_step = label
        raise


def _origin(error: BaseException) -> str | None:
    """The innermost frame of the project's own code the error went through."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f.filename.startswith(str(REPO_ROOT))
            and "/.venv/" not in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return None
    name = Path(frame.filename)
    shown = name.relative_to(REPO_ROOT) if name.is_relative_to(REPO_ROOT) else name
    return f"{shown.as_posix()}, ligne {frame.lineno}, dans {frame.name}"


def _advice(error: BaseException) -> str:
    """What to look at, from what actually failed (the error, then what caused it) rather
    than a list of usual suspects."""
    for cause in _chain(error):
        kind = type(cause)
        if "Timeout" in kind.__name__:
            return ("la tâche a dépassé son délai d'exécution : regardez dans le journal "
                    "l'étape qui a duré (volume des données, verrou de la base, disque lent)")
        if kind.__name__ == "SiteStoreUnreachable":
            return ("le stockage objet n'a répondu à aucune des tentatives : vérifiez qu'il "
                    "est joignable (adresse de la connexion, réseau, état du service), puis "
                    "relancez la tâche ; le site en ligne n'a pas changé")
        if isinstance(cause, OSError):
            return ("l'erreur vient du système de fichiers ou du réseau (voir le message) : "
                    "vérifiez le chemin, l'espace disque ou les droits qu'il nomme")
        if kind.__module__.split(".")[0] in ("sqlalchemy", "psycopg2", "sqlite3"):
            return ("l'erreur vient de la base de l'entrepôt (voir le message : injoignable, "
                    "verrouillée, pleine…)")
        if kind.__name__ == "SiteCheckFailed":
            return ("le site construit n'a pas passé les contrôles (voir le message) ; le "
                    "site en ligne n'a pas changé")
    return ("ni le disque ni la base ne sont en cause : une donnée ou le code a provoqué "
            "cette erreur à l'endroit indiqué ; regardez la donnée en cause (fichier du "
            "partenaire, entrepôt) ou transmettez cette alerte aux développeurs")


def _chain(error: BaseException) -> list[BaseException]:
    """The error and the ones behind it, as Python's own traceback shows them."""
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return chain


def describe_failure(error: BaseException | None) -> str:
    """The French lines of an alert that say what failed: step, exception, where, why."""
    if error is None:
        return "Erreur : aucune exception transmise par Airflow (délai dépassé ou tâche tuée ?)."
    lines = []
    step = getattr(error, "failed_step", None)
    if step:
        lines.append(f"Étape : {step}")
    lines.append(f"Erreur : {type(error).__name__} : {error}")
    for cause in _chain(error)[1:]:
        lines.append(f"Causée par : {type(cause).__name__} : {cause}")
    origin = _origin(error)
    if origin:
        lines.append(f"Endroit : {origin}")
    lines.append(f"Piste : {_advice(error)}.")
    return "\n".join(lines)


def task_failure_alert(context: dict) -> None:
    """Airflow ``on_failure_callback``: what failed, where the log is, what to do."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    run_id = getattr(ti, "run_id", "?")
    error = context.get("exception")
    where = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index not in (-1, None) else "")
    step = getattr(error, "failed_step", None)
    try:
        described = describe_failure(error)
    except Exception:  # the alert must go out even if describing the error fails
        described = f"Erreur : {error!r}"
    subject = f"Échec {where}" + (f" ({step})" if step else "")
    raise_alert(
        subject,
        f"La tâche {where} de l'exécution {run_id} a échoué après ses nouvelles tentatives.\n"
        f"{described}\n\n"
        "Que faire : ouvrez le journal de la tâche dans Airflow (make airflow) pour la trace "
        "complète, corrigez la cause ci-dessus, puis relancez la tâche. "
        "Les traitements sont idempotents : relancer ne compte rien deux fois, et le site en "
        "ligne reste la dernière version correcte tant que la publication n'a pas réussi.",
        # The run id is left out: the same failure in the next run is a repeat, not news.
        repeat_key=f"{subject}\n{described}")
