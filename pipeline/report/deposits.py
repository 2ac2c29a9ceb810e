"""« Dépôts des partenaires »: what each partner last sent, how it went, and who is late.

Read by the Airflow plugin ``plugins/partner_deposits.py`` (pages served inside the Airflow UI)
and by the daily reminder of late partners. Everything here is plain functions over the
territory, the ledger and the data folder; the pages are French HTML written here, every value
escaped, with nothing loaded from elsewhere.

A partner is late when more days than its ``cadence`` (territory.toml) have passed since the
ledger received its last file. Ages count from the reception time the ledger holds, and a
reception time in the future (a partner's clock ahead) counts as received now: the partner is
never « en avance » on later files.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pipeline.check.results import ValidationResult
from pipeline.config import DataPaths, Partner, Territory
from pipeline.files import REPORT_SUFFIX
from pipeline.load.ledger import STATUS_LABELS, STATUS_REJECTED, LedgerEntry
from pipeline.report.reports import report_path

SECONDS_PER_DAY = 86400
MISSING_REPORT = "rapport introuvable"


def age_in_days(received_at: datetime, now: datetime) -> int:
    """Whole days from a reception time to now; 0 for a time in the future (clock skew)."""
    return max(0, int((now - received_at).total_seconds() // SECONDS_PER_DAY))


def days_overdue(age_days: int | None, cadence_days: int | None) -> int | None:
    """Days past the expected cadence: None when the partner has no cadence or is on time
    (the last day of its period included); for a partner that never sent a file, 0."""
    if cadence_days is None:
        return None
    if age_days is None:
        return 0
    return age_days - cadence_days if age_days > cadence_days else None


@dataclass(frozen=True)
class PartnerDeposit:
    partner: Partner
    last: LedgerEntry | None  # its last file in the ledger, by reception time
    age_days: int | None  # days since that file was received; None: never received
    overdue: int | None  # days late (0: never sent one while expected); None: not late

    @property
    def late(self) -> bool:
        return self.overdue is not None


def _received(entry: LedgerEntry) -> datetime:
    moment = datetime.fromisoformat(entry.received_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def partner_deposits(territory: Territory, entries: list[LedgerEntry],
                     now: datetime) -> list[PartnerDeposit]:
    """Every partner of the territory with its last file, the late ones first (longest
    overdue first), then the others in the territory's order."""
    last: dict[str, LedgerEntry] = {}
    for entry in entries:
        if entry.partner not in last or _received(entry) > _received(last[entry.partner]):
            last[entry.partner] = entry
    found = []
    for partner in territory.partners:
        entry = last.get(partner.id)
        age = None if entry is None else age_in_days(_received(entry), now)
        found.append(PartnerDeposit(partner, entry, age, days_overdue(age, partner.cadence_days)))
    order = {partner.id: number for number, partner in enumerate(territory.partners)}
    return sorted(found, key=lambda d: (not d.late, -(d.overdue or 0), order[d.partner.id]))


def report_file(paths: DataPaths, territory: Territory, partner_id: str,
                name: str) -> Path | None:
    """The report ``name`` beside a partner's files, or None for anything else: an unknown
    partner, a name that is not a report's or leads out of the partner's inbox folder."""
    try:
        partner = territory.partner(partner_id)
    except KeyError:
        return None
    folder = paths.partner_inbox(partner).resolve()
    if (not name.endswith(REPORT_SUFFIX) or "/" in name or "\\" in name or "\0" in name
            or name.startswith(".")):
        return None
    path = (folder / name).resolve()
    return path if path.parent == folder else None


def report_of(paths: DataPaths, partner: Partner, entry: LedgerEntry) -> Path:
    """Where the report of a ledger entry is written: beside the file, in the inbox."""
    return report_path(paths.partner_inbox(partner), entry.original_name)


# --- Pages -----------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem 2rem;line-height:1.45;color:#1e1e1e}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #bbb;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#eef}td.n{text-align:right}
td.delai{min-width:13rem}tr.retard td{background:#fde2e1}
tr.retard td.delai{font-weight:bold;color:#8a0000}
.echec{color:#8a0000;font-weight:bold}.ok{color:#075e07;font-weight:bold}
pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem;border:1px solid #ddd}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{_e(title)}</h1>\n{body}\n</body></html>\n")


def _when(entry: LedgerEntry, territory: Territory) -> str:
    return f"{_received(entry).astimezone(ZoneInfo(territory.timezone)):%d/%m/%Y à %H:%M}"


def days_text(days: int) -> str:
    """« 1 jour », « 0 jour », « 8 jours »."""
    return f"{days} jour{'s' if days > 1 else ''}"


def _delay(deposit: PartnerDeposit) -> str:
    cadence = deposit.partner.cadence_days
    expected = ("aucun rythme attendu" if cadence is None
                else "attendu tous les " + ("jours" if cadence == 1 else days_text(cadence)))
    if deposit.age_days is None:
        return f"aucun fichier reçu ; {expected}"
    since = days_text(deposit.age_days)
    if deposit.late:
        return f"en retard de {deposit.overdue} j : dernier fichier il y a {since} ({expected})"
    return f"il y a {since} ({expected})"


def _file_link(entry: LedgerEntry) -> str:
    return f"fichiers/{quote(entry.partner)}/{quote(entry.sha256)}"


def _report_cell(paths: DataPaths, deposit: PartnerDeposit, prefix: str = "") -> str:
    path = report_of(paths, deposit.partner, deposit.last)
    if not path.is_file():
        return MISSING_REPORT
    return (f'<a href="{prefix}rapports/{quote(deposit.partner.id)}/{quote(path.name)}">'
            "rapport</a>")


def _counts(entry: LedgerEntry) -> str:
    return (f'<td class="n">{entry.rows_total}</td><td class="n">{entry.rows_loaded}</td>'
            f'<td class="n">{entry.warnings}</td><td class="n">{entry.errors}</td>')


COUNT_HEADERS = ("<th>lignes reçues</th><th>acceptées</th><th>en avertissement</th>"
                 "<th>en erreur</th>")


def overview_page(deposits: list[PartnerDeposit], territory: Territory, paths: DataPaths,
                  now: datetime) -> str:
    late = sum(d.late for d in deposits)
    rows = []
    for deposit in deposits:
        partner, entry = deposit.partner, deposit.last
        name = (f'<a href="partenaires/{quote(partner.id)}">{_e(partner.name)}</a>'
                f"<br><small>{_e(partner.id)}</small>")
        cls = ' class="retard"' if deposit.late else ""
        if entry is None:
            rows.append(f"<tr{cls}><td>{name}</td><td colspan=\"8\">aucun fichier reçu</td>"
                        f'<td class="delai">{_e(_delay(deposit))}</td></tr>')
            continue
        status = STATUS_LABELS.get(entry.status, entry.status)
        rows.append(
            f"<tr{cls}><td>{name}</td><td>{_e(entry.original_name)}<br><small>reçu le "
            f"{_e(_when(entry, territory))}</small></td>"
            f'<td class="{"echec" if entry.status == STATUS_REJECTED else "ok"}">'
            f"{_e(status)}</td>{_counts(entry)}"
            f'<td><a href="{_file_link(entry)}">résultat</a></td>'
            f"<td>{_report_cell(paths, deposit)}</td>"
            f'<td class="delai">{_e(_delay(deposit))}</td></tr>')
    summary = (f"<p><strong>{late} partenaire{'s' if late > 1 else ''} en retard</strong> "
               "sur le rythme de dépôt attendu (clé <code>cadence</code> de territory.toml), "
               "en tête du tableau.</p>" if late else
               "<p>Aucun partenaire en retard sur le rythme de dépôt attendu.</p>")
    table = ("<table><thead><tr><th>partenaire</th><th>dernier fichier</th><th>statut</th>"
             f"{COUNT_HEADERS}<th>contrôle Great Expectations</th><th>rapport</th>"
             "<th>depuis le dernier fichier</th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>")
    stamp = f"{now.astimezone(ZoneInfo(territory.timezone)):%d/%m/%Y à %H:%M}"
    return page("Dépôts des partenaires",
                f"<p>{_e(territory.name)} — état au {_e(stamp)}.</p>{summary}{table}")


def partner_page(partner: Partner, entries: list[LedgerEntry], territory: Territory,
                 paths: DataPaths) -> str:
    """Every file of one partner, the latest first."""
    mine = sorted((e for e in entries if e.partner == partner.id), key=_received, reverse=True)
    rows = []
    for entry in mine:
        deposit = PartnerDeposit(partner, entry, None, None)
        rows.append(
            f"<tr><td>{_e(entry.original_name)}<br><small>reçu le "
            f"{_e(_when(entry, territory))}</small></td>"
            f"<td>{_e(STATUS_LABELS.get(entry.status, entry.status))}</td>{_counts(entry)}"
            f'<td><a href="../{_file_link(entry)}">résultat</a></td>'
            f"<td>{_report_cell(paths, deposit, '../')}</td></tr>")
    body = ("<p>Aucun fichier reçu.</p>" if not rows else
            "<table><thead><tr><th>fichier</th><th>statut</th>"
            f"{COUNT_HEADERS}<th>contrôle Great Expectations</th><th>rapport</th></tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>")
    return page(f"Fichiers de {partner.name}",
                f'<p><a href="../">← Dépôts des partenaires</a></p>{body}')


def validation_page(entry: LedgerEntry, result: ValidationResult | None,
                    territory: Territory) -> str:
    """The Great Expectations result of one file: its suite, the expectations evaluated, those
    that failed and on how many lines."""
    back = '<p><a href="../../">← Dépôts des partenaires</a></p>'
    about = (f"<p>Fichier « {_e(entry.original_name)} » de {_e(entry.partner)}, reçu le "
             f"{_e(_when(entry, territory))} ; empreinte SHA-256 <code>{_e(entry.sha256)}</code>"
             f" ; statut : {_e(STATUS_LABELS.get(entry.status, entry.status))}.</p>")
    if result is None:
        return page("Contrôle Great Expectations", back + about + (
            "<p>La suite Great Expectations n'a pas été exécutée sur ce fichier : fichier de "
            "retrait de lignes, fichier refusé avant le contrôle (taille, type, lecture "
            "impossible, données personnelles, aucune ligne), ou reçu avant que les résultats "
            "soient conservés. Son rapport donne la raison.</p>"))
    verdict = ('<p class="ok">Suite réussie : aucune attente en erreur.</p>' if result.success
               else '<p class="echec">Suite en échec : au moins une attente en erreur.</p>')
    failed = len(result.failed)
    lines = "".join(
        f"<tr><td><code>{_e(f.expectation)}</code></td><td>{_e(f.column)}</td>"
        f"<td>{_e(f.rule)}</td><td>{_e(f.severity)}</td><td class=\"n\">{f.lines}</td></tr>"
        for f in result.failed)
    table = ("<table><thead><tr><th>attente</th><th>colonne</th><th>règle</th><th>gravité</th>"
             "<th>lignes</th></tr></thead><tbody>" + lines + "</tbody></table>") if lines else ""
    return page("Contrôle Great Expectations", back + about + (
        f"<p>Suite <code>{_e(result.suite)}</code> (jeu de données {_e(result.dataset)}) : "
        f"{result.evaluated} attentes évaluées, {result.evaluated - failed} satisfaites, "
        f"{failed} non satisfaite{'s' if failed > 1 else ''}.</p>{verdict}{table}"))


def report_page(partner: Partner, name: str, text: str | None) -> str:
    """A partner's report as written beside its file, or « rapport introuvable »."""
    back = '<p><a href="../../">← Dépôts des partenaires</a></p>'
    if text is None:
        return page(f"Rapport « {name} »", back + (
            f"<p><strong>{MISSING_REPORT}</strong> : aucun rapport de ce nom dans le dossier "
            f"de dépôt de {_e(partner.name)} (supprimé, ou le fichier n'a pas encore été "
            "traité). Le registre garde une copie de chaque rapport : "
            "<code>make ledger</code>.</p>"))
    return page(f"Rapport « {name} »", f"{back}<pre>{_e(text)}</pre>")


def not_found_page(what: str) -> str:
    return page("Introuvable", f'<p>{_e(what)}</p><p><a href="/depots/">← Dépôts des '
                               "partenaires</a></p>")
