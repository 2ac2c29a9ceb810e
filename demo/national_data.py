"""A synthetic national-scale territory and its partners' files, from a fixed seed.

1,000 communes in 20 departments; 30,000 venues, about 300,000 workshop sessions, 2,000,000
passes and 100,000 bin pickups (with the refurbisher's sorting) in about 500 files, in the
formats partners really send: CSV with ``;``, ``,`` or tabs, UTF-8 with or without BOM or
Windows-1252, French or ISO dates, ``14h30`` times, readable or canonical headers, and XLSX.
``scale`` shrinks every count (the tests run the benchmark at a thousandth of it).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from demo.samples import PRESCRIBERS, Session, Venue, generate_sessions
from pipeline.config import DEFAULT_TIMEZONE
from pipeline.contracts.datasets import COLLECTION, SORTING, VOUCHERS, WORKSHOPS
from pipeline.contracts.templates import reproducible_xlsx
from pipeline.contracts.venues import VENUES as VENUE_CONTRACT

SEED = 20261124
DEPARTMENTS = ("01", "03", "07", "12", "15", "19", "23", "29", "35", "36", "41", "45", "53",
               "58", "61", "71", "79", "86", "87", "89")
NAME_STARTS = ("Saint-Martin", "Sainte-Marie", "Villeneuve", "Beaumont", "Fontaine",
               "Montigny", "Châteauneuf", "Bois", "Roche", "Mont", "Val", "Plessis", "Neuville",
               "Champ", "Vaux", "Bourg", "Pont", "Rivière", "Chêne", "Lande", "Mesnil", "Ville",
               "Haut", "Clos", "Pré", "Brie", "Moulin", "Charme", "Saulx", "Lys", "Auberive",
               "Bellevue", "Clairvaux", "Dampierre", "Étang", "Fresnes", "Grandval", "Jouy",
               "Lormes", "Marcilly")
NAME_ENDS = ("", "-sur-Loire", "-le-Château", "-en-Bray", "-sous-Bois", "-les-Bains",
             "-la-Forêt", "-du-Lac", "-sur-Mer", "-le-Vieux", "-d'Aunis", "-en-Vexin",
             "-sur-Seine", "-la-Rivière", "-les-Vignes", "-de-Provence", "-le-Haut", "-le-Bas",
             "-aux-Bois", "-sur-Marne", "-la-Ville", "-en-Forez", "-sur-Cher", "-en-Auge",
             "-les-Prés")
VENUE_KINDS = ("Médiathèque", "France Services", "Espace public numérique", "CCAS",
               "Maison de quartier", "Centre social", "Mairie — point numérique",
               "Association Connexions", "Tiers-lieu", "Bibliothèque")
WORKSHOP_VENUES_PER_COMMUNE = 5
# How partners' tools write workshop CSV files: readable headers?, date and hour formats,
# delimiter, encoding, file name. A fifth of the partners send XLSX instead.
WORKSHOP_CSV_DIALECTS = (
    (False, "%d/%m/%Y", "h", ";", "utf-8-sig", "{name}.csv"),
    (False, "%Y-%m-%d", ":", ",", "utf-8", "{name}.csv"),
    (True, "%d/%m/%y", "h", ";", "cp1252", "{upper}.CSV"),
    (False, "%d/%m/%Y", ":", "\t", "utf-8", "{name}.tsv"),
)


@dataclass(frozen=True)
class Scale:
    communes: int = 1000
    venues: int = 30_000
    sessions: int = 300_000
    passes: int = 2_000_000
    pickups: int = 100_000
    workshop_partners: int = 100
    venue_partners: int = 100
    pass_operators: int = 20
    pass_files_per_operator: int = 10
    collection_partners: int = 50

    def times(self, factor: float) -> Scale:
        def at_least(value: int, floor: int) -> int:
            return max(floor, round(value * factor))

        return Scale(communes=at_least(self.communes, 20), venues=at_least(self.venues, 40),
                     sessions=at_least(self.sessions, 300), passes=at_least(self.passes, 2000),
                     pickups=at_least(self.pickups, 100),
                     workshop_partners=at_least(self.workshop_partners, 2),
                     venue_partners=at_least(self.venue_partners, 2),
                     pass_operators=at_least(self.pass_operators, 2),
                     pass_files_per_operator=at_least(self.pass_files_per_operator, 1),
                     collection_partners=at_least(self.collection_partners, 2))

    @property
    def files(self) -> int:
        return (self.workshop_partners + self.venue_partners
                + self.pass_operators * self.pass_files_per_operator
                + 2 * self.collection_partners)


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postal: str
    lat: float
    lon: float


def make_communes(count: int, rng: random.Random) -> list[Commune]:
    names = [f"{start}{end}" for end in NAME_ENDS for start in NAME_STARTS]
    communes = []
    for number in range(count):
        department = DEPARTMENTS[number % len(DEPARTMENTS)]
        serial = number // len(DEPARTMENTS) + 1
        communes.append(Commune(f"{department}{serial:03d}", names[number % len(names)],
                                f"{department}{rng.randint(100, 990):03d}",
                                round(rng.uniform(43.0, 50.5), 4), round(rng.uniform(-4.0, 7.5), 4)))
    return communes


def _slices(items: list, parts: int) -> list[list]:
    size = -(-len(items) // parts)
    return [items[i * size:(i + 1) * size] for i in range(parts)]


def _csv_bytes(header: list[str], rows: list[list], delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(header: list[str], rows: list[list], sheet_title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible_xlsx(buffer.getvalue())


class NationalWriter:
    """Writes the territory file and every partner's files under one folder."""

    def __init__(self, root: Path, scale: Scale, today: date, seed: int = SEED) -> None:
        self.root, self.scale, self.today = root, scale, today
        self.rng = random.Random(f"{seed}-{today.isoformat()}")
        self.communes = make_communes(scale.communes, self.rng)
        self.by_insee = {c.insee: c for c in self.communes}
        self.partners: list[dict] = []
        self.files: list[Path] = []
        self.rows: dict[str, int] = {}
        self.venues: dict[str, list[Venue]] = {}

    # --- helpers -----------------------------------------------------------------------------

    def _put(self, partner: str, name: str, payload: bytes, dataset: str, rows: int) -> None:
        folder = self.root / "inbox" / partner
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(payload)
        self.files.append(folder / name)
        self.rows[dataset] = self.rows.get(dataset, 0) + rows

    def _partner(self, partner_id: str, name: str, communes: list[Commune], dataset: str) -> None:
        self.partners.append({"id": partner_id, "name": name, "dataset": dataset,
                              "communes": [c.insee for c in communes]})

    # --- datasets ----------------------------------------------------------------------------

    def write_venues(self) -> None:
        per_commune = max(1, self.scale.venues // len(self.communes))
        for number, group in enumerate(_slices(self.communes, self.scale.venue_partners), 1):
            partner = f"lieux-{number:03d}"
            self._partner(partner, f"Réseau des lieux numériques n°{number}", group, "lieux")
            rows = []
            for commune in group:
                venues = [Venue(f"lieu-{commune.insee}-{n:02d}",
                                f"{VENUE_KINDS[n % len(VENUE_KINDS)]} de {commune.name}"
                                + (f" n°{n // len(VENUE_KINDS) + 1}" if n >= len(VENUE_KINDS) else ""),
                                commune.insee, f"{n + 1} rue de la République")
                          for n in range(per_commune)]
                self.venues[commune.insee] = venues
                info = (commune.name, commune.postal, commune.lat, commune.lon)
                rows += [venue.row(self.rng, self.today, info, source=f"Réseau n°{number}")
                         for venue in venues]
            header = list(VENUE_CONTRACT.column_names)
            cells = [[row[c] for c in header] for row in rows]
            if number % 4 == 2:  # a quarter of the directories come as Excel files
                self._put(partner, f"lieux_{self.today:%Y%m%d}.xlsx",
                          _xlsx(header, cells, "Lieux"), "lieux", len(rows))
            else:
                self._put(partner, f"lieux-mediation-numerique-{self.today:%Y%m%d}.csv",
                          _csv_bytes(header, cells, ",", "utf-8"), "lieux", len(rows))

    def write_workshops(self) -> None:
        per_partner = self.scale.sessions // self.scale.workshop_partners
        per_month = max(1, round(per_partner / 14))  # 12 past months + 2 months ahead
        for number, group in enumerate(_slices(self.communes, self.scale.workshop_partners), 1):
            partner = f"ateliers-{number:03d}"
            self._partner(partner, f"Ateliers numériques n°{number}", group, "ateliers")
            places = {c.insee: [(v.name, f"{v.address}, {c.postal} {c.name}")
                                for v in self.venues[c.insee][:WORKSHOP_VENUES_PER_COMMUNE]]
                      for c in group}
            registration = {c.insee: f"Accueil de la mairie de {c.name}, 01 00 00 00 00"
                            for c in group}
            sessions = generate_sessions(f"AT{number:03d}", [c.insee for c in group],
                                         self.today, self.rng, per_month, venues=places,
                                         registration=registration, days_ahead=60)
            self._write_sessions(partner, number, sessions)

    def _write_sessions(self, partner: str, number: int, sessions: list[Session]) -> None:
        canonical = list(WORKSHOPS.column_names)
        labels = [c.label for c in WORKSHOPS.columns]
        style = number % 5

        def cells(session: Session, day_format: str, hour: str) -> list:
            values = session.cells()
            values["date"] = session.day.strftime(day_format)
            values["heure_debut"] = (f"{session.start.hour}h{session.start.minute:02d}"
                                     if hour == "h" else session.start.strftime("%H:%M"))
            values["presents"] = "" if session.attended is None else session.attended
            return [values[c] for c in canonical]

        name = f"ateliers_{number:03d}_{self.today:%Y%m}"
        if style < len(WORKSHOP_CSV_DIALECTS):
            readable, day, hour, delimiter, encoding, file_name = WORKSHOP_CSV_DIALECTS[style]
            payload = _csv_bytes(labels if readable else canonical,
                                 [cells(s, day, hour) for s in sessions], delimiter, encoding)
            self._put(partner, file_name.format(name=name, upper=name.upper()), payload,
                      "ateliers", len(sessions))
        else:  # an Excel export with real dates and times
            rows = []
            for session in sessions:
                row = cells(session, "%d/%m/%Y", ":")
                row[canonical.index("date")] = datetime.combine(session.day, time())
                row[canonical.index("heure_debut")] = session.start
                rows.append(row)
            self._put(partner, f"Export {name}.xlsx", _xlsx(labels, rows, "Ateliers"),
                      "ateliers", len(sessions))

    def write_passes(self) -> None:
        files = self.scale.pass_operators * self.scale.pass_files_per_operator
        per_file = self.scale.passes // files
        labels = [c.label for c in VOUCHERS.columns]
        canonical = list(VOUCHERS.column_names)
        for operator, group in enumerate(_slices(self.communes, self.scale.pass_operators), 1):
            partner = f"pass-{operator:02d}"
            self._partner(partner, f"Opérateur pass numérique n°{operator}", group, "pass")
            for part in range(1, self.scale.pass_files_per_operator + 1):
                rows = self._pass_rows(operator, part, group, per_file)
                name = f"pass_numerique_{operator:02d}_{part:02d}"
                if part % 10 == 0:
                    self._put(partner, f"{name}.xlsx", _xlsx(labels, rows, "Pass"), "pass",
                              len(rows))
                elif part % 3 == 0:
                    self._put(partner, f"{name}.csv", _csv_bytes(canonical, rows, ",", "utf-8"),
                              "pass", len(rows))
                else:
                    self._put(partner, f"{name}.csv", _csv_bytes(labels, rows, ";", "cp1252"),
                              "pass", len(rows))

    def _pass_rows(self, operator: int, part: int, group: list[Commune], count: int) -> list[list]:
        rng, rows = self.rng, []
        for booklet in range(count // 10):
            commune = rng.choice(group)
            handed = self.today - timedelta(days=rng.randint(1, 420))
            prescriber = f"{rng.choice(PRESCRIBERS)} de {commune.name}"
            places = self.venues[commune.insee]
            for slot in range(10):
                used, place = "", ""
                if rng.random() < 0.62:
                    day = handed + timedelta(days=rng.randint(0, 120))
                    if day < self.today:
                        used, place = day.strftime("%d/%m/%Y"), rng.choice(places).id
                # Letters between the digit groups: "0605000123" would read as a mobile number
                # and the privacy screen would rightly refuse the file.
                rows.append([f"PN{operator:02d}-L{part:02d}-{booklet:06d}{slot}",
                             f"C{operator:02d}-L{part:02d}-{booklet:06d}", "10,00",
                             handed.strftime("%d/%m/%Y"), prescriber, commune.insee, used, place])
        return rows

    def write_collection(self) -> None:
        per_partner = self.scale.pickups // self.scale.collection_partners
        for number, group in enumerate(_slices(self.communes, self.scale.collection_partners), 1):
            collector, sorter = f"collecte-{number:02d}", f"tri-{number:02d}"
            self._partner(collector, f"Collecte de téléphones n°{number}", group, "collecte")
            self._partner(sorter, f"Atelier de reconditionnement n°{number}", group, "tri")
            pickups, sorting = [], []
            for serial in range(per_partner):
                commune = self.rng.choice(group)
                days_ago = self.rng.randint(1, 400)
                collected = self.rng.randint(4, 45)
                pickup = f"COL-{number:02d}-{serial:06d}"
                pickups.append([pickup, (self.today - timedelta(days=days_ago)).strftime("%d/%m/%Y"),
                                commune.insee, f"Hall de la mairie de {commune.name}", collected])
                if days_ago > 30:
                    reused = round(collected * self.rng.uniform(0.25, 0.55))
                    sorting.append([pickup, reused, collected - reused])
            self._put(collector, f"collecte_telephones_{number:02d}.csv",
                      _csv_bytes(list(COLLECTION.column_names), pickups, ";", "utf-8"),
                      "collecte", len(pickups))
            self._put(sorter, f"tri_telephones_{number:02d}.csv",
                      _csv_bytes(list(SORTING.column_names), sorting, ",", "utf-8"),
                      "tri", len(sorting))

    # --- territory file ----------------------------------------------------------------------

    def write_territory(self) -> Path:
        lines = ['[territory]', 'name = "Territoire national de démonstration"',
                 'short_name = "France"', 'site_title = "Numérique pour tous — banc national"',
                 'contact_email = "contact@example.org"', 'contact_phone = "01 00 00 00 00"',
                 'site_url = "https://banc.example.org"', f'timezone = "{DEFAULT_TIMEZONE}"',
                 'population_year = 2021', 'population_source = "Populations synthétiques du banc"',
                 '',
                 '[results]', 'suppression_threshold = 5', '']
        for commune in self.communes:
            # A population and a town hall per commune, as a real territory file gives them
            # (rates per 1,000 inhabitants, distances); derived from the code, not drawn, so
            # the rest of the data stays the same for a given seed.
            population = 800 + int(commune.insee[-3:]) * 37 + int(commune.insee[:2]) * 101
            lines += ['[[communes]]', f'insee = "{commune.insee}"',
                      f'name = "{commune.name}"', f'population = {population}',
                      f'latitude = {commune.lat}', f'longitude = {commune.lon}', '']
        for partner in self.partners:
            communes = ", ".join(f'"{c}"' for c in partner["communes"])
            lines += ['[[partners]]', f'id = "{partner["id"]}"', f'name = "{partner["name"]}"',
                      f'communes = [{communes}]', f'datasets = ["{partner["dataset"]}"]', '']
        path = self.root / "territory.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    def write_all(self) -> Path:
        self.write_venues()
        self.write_workshops()
        self.write_passes()
        self.write_collection()
        return self.write_territory()

    def new_workshop_file(self, rows: int = 1000) -> tuple[str, Path, list[Session]]:
        """One more file from the first workshop partner: ``rows`` sessions, all upcoming."""
        group = [self.by_insee[c] for c in self.partners_by_dataset("ateliers")[0]["communes"]]
        places = {c.insee: [(v.name, f"{v.address}, {c.postal} {c.name}")
                            for v in self.venues[c.insee][:WORKSHOP_VENUES_PER_COMMUNE]]
                  for c in group}
        registration = {c.insee: f"Mairie de {c.name}" for c in group}
        rng = random.Random(f"{SEED}-nouveau")
        sessions = [s for s in generate_sessions("NOUV", [c.insee for c in group], self.today,
                                                 rng, rows, venues=places,
                                                 registration=registration, days_ahead=60)
                    if s.day > self.today + timedelta(days=1)][:rows]
        partner = self.partners_by_dataset("ateliers")[0]["id"]
        path = self.root / "nouveau" / f"ateliers_nouveaux_{self.today:%Y%m%d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        canonical = list(WORKSHOPS.column_names)
        rows_out = []
        for session in sessions:
            values = session.cells()
            values["date"] = session.day.strftime("%d/%m/%Y")
            values["heure_debut"] = session.start.strftime("%H:%M")
            values["presents"] = ""
            rows_out.append([values[c] for c in canonical])
        path.write_bytes(_csv_bytes(canonical, rows_out, ";", "utf-8"))
        return partner, path, sessions

    def partners_by_dataset(self, dataset: str) -> list[dict]:
        return [p for p in self.partners if p["dataset"] == dataset]
