"""Daily reminders of late partners: for each partner past its expected cadence
(territory.toml), a French alert to the stewards (``pipeline.alerts``: a file in the alerts
folder, the task log, an e-mail when SMTP is configured), once per overdue period.

A period is one cadence: a weekly partner whose last file is 8 to 14 days old is in its first
overdue period, 15 to 21 days in its second, and gets one reminder in each; a new file starts
over. What was already reminded is kept in ``relances.json`` of the state area (unset
``INCLUSION_STATE_URL``: ``<data folder>/etat/``; with several workers, on the object store, so
that the next day's task, wherever it runs, knows it), written after each alert, so a re-run of
the day's task or a crash between two partners reminds nobody twice.

A partner with an ``email`` in territory.toml also gets the reminder itself, by e-mail, when
SMTP is configured: what to send and where, in the same once-per-period rhythm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline import storage
from pipeline.alerts import raise_alert, send_mail, smtp_configured
from pipeline.config import DataPaths, Territory
from pipeline.files import write_atomically
from pipeline.load.ledger import LedgerEntry
from pipeline.report.deposits import PartnerDeposit, days_text, partner_deposits


@dataclass(frozen=True)
class Reminder:
    partner: str
    period: str  # the last file's fingerprint and the overdue period's number
    subject: str
    body: str
    # To the partner itself (None when it has no address in territory.toml).
    partner_email: str | None = None
    partner_body: str = ""


def period_of(deposit: PartnerDeposit) -> str:
    """Which overdue period the partner is in: ``<last file's sha256>:<n>``, n = 1 in the
    first cadence past due; ``aucun`` when it never sent a file."""
    if deposit.last is None:
        return "aucun"
    cadence = deposit.partner.cadence_days
    return f"{deposit.last.sha256}:{(deposit.age_days - 1) // cadence}"


def _body(deposit: PartnerDeposit, territory: Territory) -> str:
    partner, cadence = deposit.partner, deposit.partner.cadence_days
    expected = ("Rythme attendu (territory.toml, clé cadence) : un fichier tous les "
                + ("jours." if cadence == 1 else f"{days_text(cadence)}."))
    if deposit.last is None:
        seen = "Aucun fichier n'a encore été reçu de ce partenaire."
    else:
        received = datetime.fromisoformat(deposit.last.received_at).astimezone(
            ZoneInfo(territory.timezone))
        seen = (f"Dernier fichier reçu : « {deposit.last.original_name} », le "
                f"{received:%d/%m/%Y à %H:%M}, il y a {days_text(deposit.age_days)} "
                f"({days_text(deposit.overdue)} de retard).")
    return (f"Le partenaire {partner.name} ({partner.id}) n'a pas déposé de fichier dans les "
            f"délais.\n{seen}\n{expected}\n\n"
            f"Que faire : contactez le partenaire pour lui rappeler l'envoi (dossier de dépôt "
            f"inbox/{partner.inbox}/). La vue « Dépôts des partenaires » d'Airflow montre "
            "l'état de tous les partenaires. Ce rappel n'est envoyé qu'une fois par période de "
            "retard ; il revient si une nouvelle période passe sans fichier.")


DATASET_WORDS = {"ateliers": "les séances d'ateliers numériques (prévues, réalisées, annulées)",
                 "pass": "les pass numériques remis et utilisés",
                 "collecte": "les relèves des collecteurs de téléphones",
                 "tri": "le tri des téléphones collectés",
                 "lieux": "l'annuaire de vos lieux de médiation numérique"}


def _partner_body(deposit: PartnerDeposit, territory: Territory) -> str:
    """What the partner reads: what is expected, what to send, where, and who to ask."""
    partner = deposit.partner
    sends = " ; ".join(DATASET_WORDS.get(d, d) for d in partner.datasets)
    last = ("Nous n'avons encore reçu aucun fichier de votre part."
            if deposit.last is None else
            f"Votre dernier fichier, « {deposit.last.original_name} », a été reçu il y a "
            f"{days_text(deposit.age_days)}.")
    guide = f"{territory.site_url}/partenaires/" if territory.site_url else "le site, rubrique « Partenaires »"
    return (f"Bonjour,\n\n{last} La convention prévoit un envoi tous les "
            f"{'jours' if partner.cadence_days == 1 else days_text(partner.cadence_days)}.\n\n"
            f"Merci de déposer votre prochain fichier ({sends}) dans votre dossier de dépôt "
            f"« {partner.inbox} ». Le guide des partenaires et les modèles de fichiers sont sur "
            f"{guide}. Un rapport apparaîtra à côté du fichier quelques minutes après le dépôt."
            f"\n\nUne question ? Écrivez à {territory.contact_email or 'l’équipe de l’agglomération'}."
            f"\n\nCe rappel n'est envoyé qu'une fois par période de retard.\n{territory.name}")


def due_reminders(territory: Territory, entries: list[LedgerEntry], now: datetime,
                  sent: dict[str, str]) -> list[Reminder]:
    """The reminders to send now: late partners whose current overdue period was not reminded
    (``sent``: partner id -> period already reminded)."""
    due = []
    for deposit in partner_deposits(territory, entries, now):
        if not deposit.late or sent.get(deposit.partner.id) == period_of(deposit):
            continue
        due.append(Reminder(deposit.partner.id, period_of(deposit),
                            f"Partenaire en retard : {deposit.partner.name}",
                            _body(deposit, territory), deposit.partner.email,
                            _partner_body(deposit, territory)))
    return due


def state_file(paths: DataPaths) -> Path:
    root = paths.root / "etat" if storage.in_data_folder("state") else storage.local_folder(
        "state")
    return root / "relances.json"


def _already_sent(paths: DataPaths):
    """(partner id -> period already reminded, how to record it): a file of the state area's
    folder, or its object on the store, shared by every worker."""
    if storage.is_local("state"):
        path = state_file(paths)

        def record(sent: dict) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(sent, ensure_ascii=False, indent=1,
                                              sort_keys=True))

        return (json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}), record
    from pipeline.storage import objects

    shared = storage.area("state") / "relances.json"
    stored = objects.read_bytes(shared)
    return (json.loads(stored) if stored else {}), lambda sent: objects.write_text(
        shared, json.dumps(sent, ensure_ascii=False, indent=1, sort_keys=True))


def remind_late_partners(territory: Territory, paths: DataPaths, entries: list[LedgerEntry],
                         now: datetime) -> list[Reminder]:
    """Raise the due reminders, recording each one as soon as it is out; returns them."""
    sent, record = _already_sent(paths)
    due = due_reminders(territory, entries, now, sent)
    for reminder in due:
        raise_alert(reminder.subject, reminder.body, now)
        if reminder.partner_email and smtp_configured():
            send_mail(reminder.partner_email, "Rappel : votre prochain fichier est attendu",
                      reminder.partner_body)
        sent[reminder.partner] = reminder.period
        record(sent)
    return due
