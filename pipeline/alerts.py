"""Steward alerts: a failed task writes a French alert file into the data folder and the task
log, and sends an e-mail when SMTP is configured (``INCLUSION_SMTP_HOST``, ``_PORT``,
``_FROM``, ``_TO``). Alerts never raise: a broken mail server must not hide the first failure."""

from __future__ import annotations

import logging
import os
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from pipeline.config import data_paths
from pipeline.reports import write_atomically

log = logging.getLogger(__name__)


def alerts_folder() -> Path:
    return data_paths().root / "alertes"


def raise_alert(subject: str, body: str, now: datetime | None = None) -> Path:
    now = now or datetime.now(UTC)
    folder = alerts_folder()
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in subject)[:80]
    path = folder / f"{now:%Y%m%dT%H%M%S}-{safe}.txt"
    write_atomically(path, f"{subject}\n\n{body}\n")
    log.error("ALERTE : %s — %s", subject, body)
    _send_mail(subject, body)
    return path


def _send_mail(subject: str, body: str) -> None:
    host, recipients = os.environ.get("INCLUSION_SMTP_HOST"), os.environ.get("INCLUSION_SMTP_TO")
    if not host or not recipients:
        return
    message = EmailMessage()
    message["Subject"] = f"[Numérique pour tous] {subject}"
    message["From"] = os.environ.get("INCLUSION_SMTP_FROM", "airflow@localhost")
    message["To"] = recipients
    message.set_content(body)
    try:
        with smtplib.SMTP(host, int(os.environ.get("INCLUSION_SMTP_PORT", "25")), timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("alerte non envoyée par courriel : %s", exc)


def task_failure_alert(context: dict) -> None:
    """Airflow ``on_failure_callback``: what failed, where the log is, what to do."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    run_id = getattr(ti, "run_id", "?")
    error = context.get("exception")
    where = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index not in (-1, None) else "")
    raise_alert(
        f"Échec {where}",
        f"La tâche {where} de l'exécution {run_id} a échoué après ses nouvelles tentatives.\n"
        f"Erreur : {error!r}\n\n"
        "Que faire : ouvrez le journal de la tâche dans Airflow (make airflow), corrigez la "
        "cause (disque plein, base indisponible, configuration), puis relancez la tâche. "
        "Les traitements sont idempotents : relancer ne compte rien deux fois, et le site en "
        "ligne reste la dernière version correcte tant que la publication n'a pas réussi.")
