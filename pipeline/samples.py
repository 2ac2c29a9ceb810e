"""Sample partner exports for the demo and the tests, in the formats partners really send.

Dates are generated around a reference day (today by default) from a fixed seed, so the demo
always shows a year of past sessions and the coming months' planned ones, and the same
reference day always gives byte-identical files.

- ``orange-ateliers``: CSV, ``;``, UTF-8 with BOM, ``31/01/2026`` and ``14h30``, French labels;
- ``ville-massy``: XLSX with real Excel dates and times;
- ``ville-palaiseau``: CSV, ``;``, Windows-1252 (an old spreadsheet's "CSV (séparateur: ;)").
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pipeline.contracts import WORKSHOP_PUBLICS, WORKSHOP_TOPICS, WORKSHOPS

SEED = 20260204  # the day Paris-Saclay and Orange signed their partnership

VENUES = {
    "91272": [("Médiathèque de Gif-sur-Yvette", "1 rue Alfred Lalande, 91190 Gif-sur-Yvette")],
    "91312": [("Espace Marcel Pagnol", "4 avenue de la Division Leclerc, 91430 Igny")],
    "91692": [("France Services des Ulis", "Place de la Liberté, 91940 Les Ulis")],
    "91345": [("Médiathèque Bernard Vergnaud", "3 rue des Écoles, 91160 Longjumeau")],
    "91363": [("Mairie de Marcoussis — salle des fêtes", "1 place Jean Jaurès, 91460 Marcoussis")],
    "91377": [("Médiathèque Jean Cocteau", "2 rue de la Poterne, 91300 Massy"),
              ("Espace numérique de l'Opéra", "1 place de France, 91300 Massy")],
    "91471": [("Maison de quartier de Mondétour", "Rue de Mondétour, 91400 Orsay")],
    "91477": [("Médiathèque George Sand", "1 place de la Mairie, 91120 Palaiseau"),
              ("CCAS de Palaiseau", "5 rue de la Libération, 91120 Palaiseau")],
    "91689": [("Salle Maurice Jauffret", "Place de l'Église, 91320 Wissous")],
}

REGISTRATION = {
    "91272": "Accueil de la mairie, 01 69 18 69 18",
    "91312": "Accueil de la mairie, 01 69 33 11 11",
    "91692": "France Services des Ulis, 01 69 29 34 34",
    "91345": "Médiathèque, 01 64 48 81 81",
    "91363": "Accueil de la mairie, 01 64 49 15 00",
    "91377": "Service numérique de la ville, 01 69 53 62 00",
    "91471": "Accueil de la mairie, 01 60 92 80 00",
    "91477": "CCAS de Palaiseau, 01 69 31 00 00",
    "91689": "Accueil de la mairie, 01 64 47 27 27",
}


@dataclass(frozen=True)
class Session:
    session_id: str
    commune: str
    venue: str
    address: str
    day: date
    start: time
    minutes: int
    topic: str
    public: str
    seats: int
    registered: int
    attended: int | None
    status: str  # contract label

    def cells(self) -> dict[str, object]:
        return {
            "identifiant_seance": self.session_id, "commune": self.commune, "lieu": self.venue,
            "adresse": self.address, "date": self.day, "heure_debut": self.start,
            "duree_minutes": self.minutes, "thematique": self.topic, "public": self.public,
            "places": self.seats, "inscrits": self.registered, "presents": self.attended,
            "statut": self.status, "inscription": REGISTRATION[self.commune],
        }


def generate_sessions(prefix: str, communes: list[str], today: date, rng: random.Random,
                      per_month: int) -> list[Session]:
    sessions: list[Session] = []
    start = today - timedelta(days=365)
    end = today + timedelta(days=90)
    count = per_month * 15
    for number in range(1, count + 1):
        day = start + timedelta(days=rng.randrange((end - start).days))
        while day.weekday() >= 5:  # workshops are held on weekdays
            day += timedelta(days=1)
        commune = rng.choice(communes)
        venue, address = rng.choice(VENUES[commune])
        seats = rng.randint(5, 12)
        topic = rng.choice(WORKSHOP_TOPICS).label
        public = rng.choice(WORKSHOP_PUBLICS).label
        start_time = rng.choice([time(9, 30), time(10, 0), time(14, 0), time(14, 30), time(16, 0)])
        minutes = rng.choice([60, 60, 60, 90, 120])
        if day < today:
            cancelled = rng.random() < 0.08
            registered = rng.randint(3, seats)
            attended = None if cancelled else rng.randint(max(0, registered - 3), registered)
            status = "Annulée" if cancelled else "Réalisée"
        else:
            registered = rng.randint(0, seats)
            attended, status = None, "Prévue"
        sessions.append(Session(f"{prefix}-{number:04d}", commune, venue, address, day,
                                start_time, minutes, topic, public, seats, registered,
                                attended, status))
    return sorted(sessions, key=lambda s: (s.day, s.start, s.session_id))


def _csv_text(sessions: list[Session], header: list[str], two_digit_year: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for session in sessions:
        cells = session.cells()
        cells["date"] = session.day.strftime("%d/%m/%y" if two_digit_year else "%d/%m/%Y")
        cells["heure_debut"] = f"{session.start.hour}h{session.start.minute:02d}"
        cells["presents"] = "" if session.attended is None else session.attended
        writer.writerow([cells[c] for c in WORKSHOPS.column_names])
    return buffer.getvalue()


def _xlsx_bytes(sessions: list[Session]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Ateliers"
    sheet.append([c.label for c in WORKSHOPS.columns])  # this tool exports readable headers
    for session in sessions:
        cells = session.cells()
        cells["date"] = datetime.combine(session.day, time())
        row = [cells[c] for c in WORKSHOPS.column_names]
        sheet.append(row)
    for cell in sheet["E"][1:]:
        cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_samples(inbox_root: Path, today: date) -> list[Path]:
    rng = random.Random(f"{SEED}-{today.isoformat()}")
    orange = generate_sessions("ORA", ["91272", "91312", "91692", "91345", "91363", "91471",
                                       "91689"], today, rng, per_month=6)
    massy = generate_sessions("MAS", ["91377"], today, rng, per_month=3)
    palaiseau = generate_sessions("PAL", ["91477"], today, rng, per_month=2)
    written = []

    def put(partner: str, name: str, payload: bytes) -> None:
        folder = inbox_root / partner
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(payload)
        written.append(folder / name)

    header = list(WORKSHOPS.column_names)
    put("orange-ateliers", f"ateliers_orange_{today:%Y%m%d}.csv",
        _csv_text(orange, header).encode("utf-8-sig"))
    put("ville-massy", f"Export ateliers Massy {today:%Y-%m}.xlsx", _xlsx_bytes(massy))
    put("ville-palaiseau", "ATELIERS_PALAISEAU.CSV",
        _csv_text(palaiseau, [c.label for c in WORKSHOPS.columns], two_digit_year=True)
        .encode("cp1252"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Écrit les fichiers d'exemple des partenaires.")
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    for path in write_samples(args.inbox, args.today):
        print(f"  exemple déposé : {path}")


if __name__ == "__main__":
    main()
