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

from pipeline.contracts.datasets import WORKSHOP_PUBLICS, WORKSHOP_TOPICS, WORKSHOPS
from pipeline.contracts.templates import reproducible_xlsx
from pipeline.contracts.venues import ACCESS, FEES, NATIONAL_PROGRAMMES, SERVICES, SUPPORT_MODES
from pipeline.contracts.venues import VENUES as VENUE_CONTRACT

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
    registration: str

    def cells(self) -> dict[str, object]:
        return {
            "identifiant_seance": self.session_id, "commune": self.commune, "lieu": self.venue,
            "adresse": self.address, "date": self.day, "heure_debut": self.start,
            "duree_minutes": self.minutes, "thematique": self.topic, "public": self.public,
            "places": self.seats, "inscrits": self.registered, "presents": self.attended,
            "statut": self.status, "inscription": self.registration,
        }


def generate_sessions(prefix: str, communes: list[str], today: date, rng: random.Random,
                      per_month: int, venues: dict[str, list[tuple[str, str]]] = VENUES,
                      registration: dict[str, str] = REGISTRATION,
                      days_ahead: int = 90) -> list[Session]:
    """A year of past sessions and ``days_ahead`` days of planned ones, ``per_month`` a month."""
    sessions: list[Session] = []
    start = today - timedelta(days=365)
    end = today + timedelta(days=days_ahead)
    count = per_month * (12 + days_ahead // 30)
    for number in range(1, count + 1):
        day = start + timedelta(days=rng.randrange((end - start).days))
        while day.weekday() >= 5:  # workshops are held on weekdays
            day += timedelta(days=1)
        commune = rng.choice(communes)
        venue, address = rng.choice(venues[commune])
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
                                attended, status, registration[commune]))
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
    return reproducible_xlsx(buffer.getvalue())


COMMUNE_INFO = {  # name, postal code, approximate centre (lat, lon)
    "91272": ("Gif-sur-Yvette", "91190", 48.7016, 2.1336),
    "91312": ("Igny", "91430", 48.7372, 2.2253),
    "91692": ("Les Ulis", "91940", 48.6818, 2.1697),
    "91345": ("Longjumeau", "91160", 48.6943, 2.2958),
    "91363": ("Marcoussis", "91460", 48.6414, 2.2297),
    "91377": ("Massy", "91300", 48.7309, 2.2713),
    "91471": ("Orsay", "91400", 48.6993, 2.1875),
    "91477": ("Palaiseau", "91120", 48.7145, 2.2457),
    "91689": ("Wissous", "91320", 48.7320, 2.3265),
    "91122": ("Bures-sur-Yvette", "91440", 48.6969, 2.1627),
    "91534": ("Saclay", "91400", 48.7302, 2.1729),
    "91645": ("Verrières-le-Buisson", "91370", 48.7476, 2.2389),
    "91161": ("Chilly-Mazarin", "91380", 48.7071, 2.3130),
}
EXTRA_VENUES = {
    "91122": [("Médiathèque de Bures-sur-Yvette", "45 rue Charles de Gaulle")],
    "91534": [("Mairie de Saclay — espace numérique", "12 place de la Mairie")],
    "91645": [("Médiathèque André Malraux", "93 voie de l'Aulne")],
}
HOURS = [
    "Mo-Fr 09:00-12:00,14:00-17:30",
    "Tu,Th 14:00-18:00; We 10:00-12:00,14:00-18:00; Sa 10:00-17:00",
    "Mo-Fr 08:30-12:30,13:30-17:00; Sa 09:00-12:00",
    "Tu-Sa 10:00-18:00",
    "Mo 14:00-17:00; We 09:00-12:00; Fr 09:00-12:00,14:00-17:00",
]
PRESCRIBERS = ["CCAS", "France Services", "Mission locale", "Maison des solidarités"]


@dataclass(frozen=True)
class Venue:
    id: str
    name: str
    commune: str
    address: str

    def row(self, rng: random.Random, today: date,
            commune_info: tuple[str, str, float, float] | None = None,
            source: str = "Agglomération Paris-Saclay") -> dict[str, object]:
        """A row of the national standard; ``commune_info`` is (name, postal code, lat, lon)."""
        name, postal, lat, lon = commune_info or COMMUNE_INFO[self.commune]
        services = rng.sample([c.label for c in SERVICES], rng.randint(2, 4))
        programmes = rng.sample([c.label for c in NATIONAL_PROGRAMMES[:6]], rng.randint(0, 2))
        return {
            "id": self.id, "pivot": f"2191{self.commune[2:]}{rng.randint(10000, 99999)}00",
            "nom": self.name, "commune": name, "code_postal": postal, "code_insee": self.commune,
            "adresse": self.address, "complement_adresse": "",
            "latitude": f"{lat + rng.uniform(-0.008, 0.008):.5f}",
            "longitude": f"{lon + rng.uniform(-0.008, 0.008):.5f}",
            "typologie": rng.choice(["BIB", "MUNI", "CCAS", "ASSO", "FRANCE_SERVICE"]),
            "telephone": f"+3316{rng.randint(1000000, 9999999)}",
            "courriels": f"numerique.{self.id}@example.org",
            "site_web": f"https://www.example.org/{self.id}",
            "horaires": rng.choice(HOURS),
            "presentation_resume": f"Accompagnement au numérique à {name} : aide aux démarches "
                                   "en ligne, ateliers et accès libre à un ordinateur.",
            "presentation_detail": "", "source": source, "itinerance": "Fixe",
            "structure_parente": f"Ville de {name}",
            "date_maj": (today - timedelta(days=rng.randint(5, 200))).isoformat(),
            "services": "|".join(sorted(services)),
            "publics_specifiquement_adresses": rng.choice(["", "", "Seniors", "Jeunes"]),
            "prise_en_charge_specifique": rng.choice(["", "Déficience visuelle", "Surdité",
                                                      "Handicaps moteurs"]),
            "frais_a_charge": FEES[0].label,
            "dispositif_programmes_nationaux": "|".join(programmes),
            "formations_labels": "",
            "autres_formations_labels": rng.choice(["Pass numérique", ""]),
            "modalites_acces": "|".join(rng.sample([c.label for c in ACCESS[:4]], 2)),
            "modalites_accompagnement": "|".join(rng.sample([c.label for c in SUPPORT_MODES], 2)),
            "fiche_acces_libre": rng.choice(["", "https://acceslibre.beta.gouv.fr/"]),
            "prise_rdv": "",
        }


def sample_venues() -> list[Venue]:
    venues = []
    for commune, entries in sorted({**VENUES, **EXTRA_VENUES}.items()):
        for number, (venue_name, address) in enumerate(entries, start=1):
            street = address.split(",")[0]
            venues.append(Venue(f"lieu-{commune}-{number:02d}", venue_name, commune, street))
    return venues


def _venues_csv(venues: list[Venue], rng: random.Random, today: date) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=VENUE_CONTRACT.column_names, lineterminator="\n")
    writer.writeheader()
    for venue in venues:
        writer.writerow(venue.row(rng, today))
    return buffer.getvalue().encode("utf-8")


def _passes_csv(venues: list[Venue], rng: random.Random, today: date) -> bytes:
    """Booklets of 10 passes of 10 EUR handed out by prescribers; many redeemed later."""
    by_commune: dict[str, list[Venue]] = {}
    for venue in venues:
        by_commune.setdefault(venue.commune, []).append(venue)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Numéro du pass", "Numéro du carnet", "Valeur (euros)", "Date de remise",
                     "Prescripteur", "Commune (code INSEE)", "Date d'utilisation",
                     "Lieu d'utilisation"])
    communes = sorted(by_commune)
    for booklet in range(1, 181):
        commune = rng.choice(communes)
        handed = today - timedelta(days=rng.randint(1, 420))
        prescriber = f"{rng.choice(PRESCRIBERS)} de {COMMUNE_INFO[commune][0]}"
        for slot in range(10):
            used, place = "", ""
            if rng.random() < 0.62:
                day = handed + timedelta(days=rng.randint(0, 120))
                if day < today:
                    used = day.strftime("%d/%m/%Y")
                    place = rng.choice(by_commune[commune]).id
            writer.writerow([f"PN-{handed.year}-{booklet:04d}{slot:02d}",
                             f"C-{handed.year}-{booklet:04d}", "10,00",
                             handed.strftime("%d/%m/%Y"), prescriber, commune, used, place])
    return buffer.getvalue().encode("cp1252")


def _orsay_export(today: date) -> bytes:
    """Orsay's own tool: its headers, its labels, one column of hours per day, dd.mm.yyyy."""
    header = ["Réf.", "SIRET", "Nom de la structure", "Ville", "CP", "Rue", "Tél.",
              "Mise à jour", "Services proposés", "Public", "Lundi", "Mardi", "Mercredi",
              "Jeudi", "Vendredi", "Samedi", "Remarque interne"]
    updated = (today - timedelta(days=12)).strftime("%d.%m.%Y")
    rows = [
        ["ORS-1", "21910471700018", "Guichet numérique de l'Hôtel de ville", "Orsay", "91400",
         "2 place du Général Leclerc", "01 60 92 80 00", updated, "Démarches, Sécurité", "",
         "9h-12h / 14h-17h", "9h-12h", "fermé", "9h-12h / 14h-17h", "9h-12h", "", "à relancer"],
        ["ORS-2", "21910471700018", "Point numérique de Mondétour", "Orsay", "91400",
         "Rue de Mondétour", "01 60 92 81 00", updated, "Smartphone et ordinateur, Emploi",
         "Aînés", "", "14h-18h", "14h-18h", "", "", "10h-12h", ""],
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("cp1252")


COLLECTION_POINTS = ("Hall de la mairie", "Médiathèque", "Conservatoire")


def _declared_bins(today: date) -> dict[str, list[str]]:
    """The bins territory.toml declares per commune, installed before the samples' year: the
    pickups there name them as declared (a bin installed since, like Palaiseau's
    conservatoire, has had no pickup yet). A territory file that cannot be read declares
    none here: the pipeline itself stops on it with its message."""
    from pipeline.config import ConfigError, load_territory

    try:
        points = load_territory().collection_points
    except (ConfigError, OSError):
        return {}
    declared: dict[str, list[str]] = {}
    for point in points:
        if point.since is None or point.since <= (today - timedelta(days=400)).isoformat():
            declared.setdefault(point.commune, []).append(point.name)
    return declared


def _collection_files(rng: random.Random, today: date) -> tuple[bytes, bytes]:
    """Monthly bin pickups (Orange) and, for pickups sorted already, the refurbisher's counts.
    In a commune whose bins territory.toml declares, the points take the declared names (the
    random draws stay the same, so every other sample value does too)."""
    declared = _declared_bins(today)
    pickups = io.StringIO()
    sorting = io.StringIO()
    pickup_writer = csv.writer(pickups, delimiter=";", lineterminator="\n")
    sorting_writer = csv.writer(sorting, delimiter=",", lineterminator="\n")
    pickup_writer.writerow(["identifiant_collecte", "date", "commune", "point_collecte",
                            "telephones_collectes"])
    sorting_writer.writerow(["identifiant_collecte", "telephones_reconditionnes",
                             "telephones_recycles"])
    number = 0
    for commune, (name, *_rest) in sorted(COMMUNE_INFO.items()):
        points = [f"{point} de {name}" for point in COLLECTION_POINTS[: rng.randint(1, 2)]]
        if commune in declared:
            points = [declared[commune][i % len(declared[commune])] for i in range(len(points))]
        for months_ago in range(12, 0, -1):
            for point in points:
                number += 1
                day = today - timedelta(days=30 * months_ago + rng.randint(0, 20))
                collected = rng.randint(4, 45)
                pickup_id = f"COL-{commune}-{number:04d}"
                pickup_writer.writerow([pickup_id, day.strftime("%d/%m/%Y"), commune, point,
                                        collected])
                if months_ago > 1:  # the refurbisher sorts within about a month
                    reused = round(collected * rng.uniform(0.25, 0.55))
                    sorting_writer.writerow([pickup_id, reused, collected - reused])
    return pickups.getvalue().encode("utf-8"), sorting.getvalue().encode("utf-8")


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
    venues = sample_venues()
    put("agglo-lieux", f"lieux-mediation-numerique-{today:%Y%m%d}.csv",
        _venues_csv(venues, rng, today))
    put("operateur-pass", f"pass_numerique_{today:%Y%m%d}.csv", _passes_csv(venues, rng, today))
    put("ville-orsay", f"Guichets numeriques Orsay {today:%d-%m-%Y}.csv", _orsay_export(today))
    pickups, sorting = _collection_files(rng, today)
    put("orange-collecte", f"collecte_telephones_{today:%Y%m}.csv", pickups)
    put("reconditionneur", f"tri_telephones_{today:%Y%m}.csv", sorting)
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
