"""Territory configuration and runtime paths.

The territory (communes, partners) is read from one TOML file; all runtime state lives under one
data folder. Both are chosen by environment variables so tests and the demo never share state.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline import settings
from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import normalize_header
from pipeline.contracts.partner_mapping import Mapping, MappingError
from pipeline.contracts.hours import is_valid as hours_are_valid

REPO_ROOT = settings.REPO_ROOT
DEFAULT_TERRITORY_FILE = REPO_ROOT / "territory.toml"
DEFAULT_TIMEZONE = "Europe/Paris"  # when territory.toml names none


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    # Postal codes and earlier names (before a merger or renaming), to place rows that give a
    # postal code and a commune name but no INSEE code (pipeline.read.places).
    postal_codes: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    # INSEE legal population of [territory] population_year, for per-1,000 rates; None: unknown.
    population: int | None = None
    # The town hall's WGS84 position, from which the directory measures « près de <commune> »;
    # None when territory.toml gives none (the centre of the commune's venues is used then).
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    inbox: str
    communes: tuple[str, ...]
    datasets: tuple[str, ...]
    # How to read this partner's own export layout (see pipeline.read.mapping), if it has one.
    mapping: Mapping | None = None
    # Where the partner publishes its export, if it is pulled rather than dropped.
    source_url: str | None = None
    source_name: str | None = None
    # How many days may pass between two of its files (key ``cadence``); None: no expectation,
    # the partner is never reported late.
    cadence_days: int | None = None
    # The partner organisation's address for reminders (key ``email``); None: stewards only.
    email: str | None = None


@dataclass(frozen=True)
class CollectionPoint:
    """A used-phone bin, declared with its address and hours (``[[collection_points]]``) so
    that residents find it before its first pickup, and so that it gets a printed poster."""

    id: str  # /telephones/<id>/affiche/
    commune: str
    # As the site shows it and as the pickup files name it (``point_collecte``); ``aliases``
    # are other spellings partners use. Case, accents and punctuation do not matter.
    name: str
    address: str
    hours: str = ""  # OpenStreetMap opening_hours: when the bin can be reached
    aliases: tuple[str, ...] = ()
    host: str = ""  # who hosts the bin, when it is not plain from its name
    since: str | None = None  # ISO date the bin was installed
    latitude: float | None = None
    longitude: float | None = None

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def point_name_key(name: object) -> str:
    """How two spellings of a collection point's name are compared: « Hall de la Mairie » and
    « hall de la mairie » are the same bin."""
    return normalize_header(name)


@dataclass(frozen=True)
class PublicationRules:
    """territory.toml's ``[publication]``: when a publication waits for a steward's approval
    (``publish.changes.find_anomalies``)."""

    # A commune's key figure falling by more than this share of its live value (0.5: -50 %).
    max_figure_drop: float = 0.5
    # Rising by more than this share (2.0: +200 %); None: rises never wait (figures of the
    # current year grow as partners send their months).
    max_figure_rise: float | None = None
    # Figures smaller than this on the live site are not judged (4 -> 1 is not news).
    min_previous_value: float = 10.0
    # A partner's accepted file with fewer rows than this share of its previous accepted file
    # of the same dataset (0.25: under a quarter).
    min_file_share: float = 0.25
    # Publications kept in the history (``publish.changes.recent_publications``).
    history: int = 30


@dataclass(frozen=True)
class Territory:
    name: str
    short_name: str
    site_title: str
    contact_email: str
    contact_phone: str
    timezone: str
    site_url: str
    communes: tuple[Commune, ...]
    partners: tuple[Partner, ...]
    population_year: int | None = None
    population_source: str = ""
    # Who receives « Signaler une erreur » from the venue pages (else contact_email).
    steward_email: str = ""
    publication: PublicationRules = PublicationRules()
    collection_points: tuple[CollectionPoint, ...] = ()

    @cached_property
    def populations(self) -> dict[str, int]:
        """INSEE code -> legal population, for the communes whose population is known."""
        return {c.insee: c.population for c in self.communes if c.population}

    @cached_property
    def commune_names(self) -> dict[str, str]:
        return {c.insee: c.name for c in self.communes}

    @cached_property
    def insee_by_name(self) -> dict[str, str]:
        """A commune's name as partners write it (``normalize_header``: case, accents,
        spacing) -> its INSEE code; made once rather than for every file read (1,000 communes
        at national scale). Shared: callers read it, never change it."""
        return {normalize_header(c.name): c.insee for c in self.communes}

    @cached_property
    def _points_by_name(self) -> dict[tuple[str, str], CollectionPoint]:
        return {(p.commune, point_name_key(name)): p
                for p in self.collection_points for name in p.names()}

    def collection_point(self, commune: object, name: object) -> CollectionPoint | None:
        """The declared bin a pickup row names (its commune and ``point_collecte``), if any."""
        return self._points_by_name.get((str(commune), point_name_key(name)))

    def partner(self, partner_id: str) -> Partner:
        for partner in self.partners:
            if partner.id == partner_id:
                return partner
        raise KeyError(f"unknown partner {partner_id!r}")

    def partner_communes(self, partner: Partner) -> list[str]:
        if "*" in partner.communes:
            return [c.insee for c in self.communes]
        return list(partner.communes)


class ConfigError(ValueError):
    """territory.toml cannot be used; the message names the file, the table and the key."""


# The keys each table of territory.toml may hold, and whether they are required. Anything else
# is a typo that would otherwise be silently ignored.
TOP_KEYS = {"territory", "communes", "partners", "results", "publication", "collection_points"}
TERRITORY_KEYS = {"name": True, "short_name": False, "site_title": False,
                  "contact_email": False, "contact_phone": False, "site_url": False,
                  "steward_email": False,
                  "timezone": False, "population_year": False, "population_source": False}
COMMUNE_KEYS = {"insee": True, "name": True, "postal_codes": False, "former_names": False,
                "population": False, "latitude": False, "longitude": False}
PARTNER_KEYS = {"id": True, "name": True, "inbox": False, "communes": False, "datasets": True,
                "source_url": False, "source_name": False, "mapping": False,
                "cadence": False, "email": False}
POINT_KEYS = {"id": True, "commune": True, "name": True, "address": True, "hours": False,
              "aliases": False, "host": False, "since": False, "latitude": False,
              "longitude": False}
RESULTS_KEYS = {"suppression_threshold": False, "targets": False}
PUBLICATION_KEYS = {"max_figure_drop": False, "max_figure_rise": False,
                    "min_previous_value": False, "min_file_share": False, "history": False}
TARGET_KEYS = {"id": True, "programme": True, "indicator": False, "unit": True, "counts": True,
               "value": True, "start": True, "end": True, "source": False,
               "measurable_with": False}
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_POSTAL = re.compile(r"^\d{5}$")
_EMAIL = re.compile(r"^[^@\s<>\"'(),;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# The words a partner's ``cadence`` may use, and the days each allows between two files: the
# longest such period (a month of 31 days, a quarter of 92, a leap year).
CADENCES = {"quotidien": 1, "hebdomadaire": 7, "mensuel": 31, "trimestriel": 92,
            "semestriel": 184, "annuel": 366}


def _check_keys(table: object, schema: dict[str, bool], where: str, fail) -> dict:
    if not isinstance(table, dict):
        fail(where, "must be a table")
    for key in table:
        if key not in schema:
            fail(where, f"unknown key {key!r} (known: {', '.join(schema)})")
    for key, required in schema.items():
        if required and key not in table:
            fail(where, f"missing key {key!r}")
    return table


def _string_list(value: object, where: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(where, "must be a list of strings")
    return tuple(value)


def _load_commune(raw: dict, where: str, fail) -> Commune:
    _check_keys(raw, COMMUNE_KEYS, where, fail)
    insee = str(raw["insee"])
    if not _INSEE.match(insee):
        fail(f"{where}, key insee", f"{insee!r} is not a 5-character INSEE code")
    postal = _string_list(raw.get("postal_codes", []), f"{where}, key postal_codes", fail)
    bad = [code for code in postal if not _POSTAL.match(code)]
    if bad:
        fail(f"{where}, key postal_codes", f"{bad[0]!r} is not a 5-digit postal code")
    population = raw.get("population")
    if population is not None and (not isinstance(population, int) or isinstance(population, bool)
                                   or population < 0):
        fail(f"{where}, key population", f"{population!r} is not a whole number of "
                                          "inhabitants (leave the key out when it is unknown)")
    latitude, longitude = _position(raw, where, fail)
    return Commune(insee, str(raw["name"]), postal,
                   _string_list(raw.get("former_names", []), f"{where}, key former_names", fail),
                   population, latitude, longitude)


def _position(raw: dict, where: str, fail) -> tuple[float | None, float | None]:
    """A commune's optional town-hall position: both keys or neither, decimal degrees."""
    if ("latitude" in raw) != ("longitude" in raw):
        missing = "longitude" if "latitude" in raw else "latitude"
        fail(f"{where}, key {missing}", "latitude and longitude go together: give both or neither")
    if "latitude" not in raw:
        return None, None
    position = []
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -bound <= value <= bound:
            fail(f"{where}, key {key}",
                 f"{value!r} is not a number of decimal degrees between -{bound} and {bound} "
                 "(write 48.7144, not \"48° 42′ 52″\")")
        position.append(float(value))
    return position[0], position[1]


def _load_partner(raw: dict, known_communes: set[str], fail) -> Partner:
    where = f"partner {raw.get('id', '?')!r}" if isinstance(raw, dict) else "partners"
    _check_keys(raw, PARTNER_KEYS, where, fail)
    if not isinstance(raw["id"], str) or not _PARTNER_ID.match(raw["id"]):
        fail(f"{where}, key id", "use lowercase letters, digits and dashes")
    datasets = _string_list(raw["datasets"], f"{where}, key datasets", fail)
    for dataset in datasets:
        if dataset not in CONTRACTS:
            fail(f"{where}, key datasets",
                 f"unknown dataset {dataset!r} (known: {', '.join(CONTRACTS)})")
    communes = tuple(str(c) for c in _string_list(raw.get("communes", []),
                                                  f"{where}, key communes", fail))
    unknown = [c for c in communes if c != "*" and c not in known_communes]
    if unknown:
        fail(f"{where}, key communes", f"lists unknown communes {unknown}")
    source_url = raw.get("source_url")
    if source_url is not None and not re.match(r"^https?://", str(source_url)):
        fail(f"{where}, key source_url", "must be an http(s) address")
    columns = {c.name for d in datasets for c in CONTRACTS[d].columns}
    try:
        mapping = Mapping.from_config(raw.get("mapping"), columns)
    except MappingError as exc:
        fail(f"{where}, key {exc.key}", exc.problem)
    return Partner(id=raw["id"], name=str(raw["name"]), inbox=str(raw.get("inbox", raw["id"])),
                   communes=communes, datasets=datasets, mapping=mapping,
                   source_url=source_url, source_name=raw.get("source_name"),
                   cadence_days=_cadence(raw.get("cadence"), f"{where}, key cadence", fail),
                   email=_email(raw.get("email"), f"{where}, key email", fail))


def _load_point(raw: object, number: int, known_communes: set[str], fail) -> CollectionPoint:
    where = (f"collection point {raw.get('id', '?')!r}" if isinstance(raw, dict)
             else f"[[collection_points]] number {number}")
    _check_keys(raw, POINT_KEYS, where, fail)
    if not isinstance(raw["id"], str) or not _PARTNER_ID.match(raw["id"]):
        fail(f"{where}, key id", "use lowercase letters, digits and dashes (it names the "
                                 "poster's address, /telephones/<id>/affiche/)")
    commune = str(raw["commune"])
    if commune not in known_communes:
        fail(f"{where}, key commune", f"{commune!r} is not the INSEE code of a [[communes]] entry")
    for key in ("name", "address"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            fail(f"{where}, key {key}", "must be a non-empty string")
    hours = raw.get("hours", "")
    if not isinstance(hours, str) or (hours.strip() and not hours_are_valid(hours)):
        fail(f"{where}, key hours", f"{hours!r} is not in the OpenStreetMap opening_hours "
                                    "format, e.g. \"Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00\"")
    since = raw.get("since")
    if isinstance(since, date):
        since = since.isoformat()
    elif since is not None:
        fail(f"{where}, key since", f"{since!r} is not a date (write 2026-11-15, without quotes)")
    latitude, longitude = _position(raw, where, fail)
    return CollectionPoint(
        raw["id"], commune, raw["name"].strip(), raw["address"].strip(), hours.strip(),
        _string_list(raw.get("aliases", []), f"{where}, key aliases", fail),
        str(raw.get("host", "")).strip(), since, latitude, longitude)


def _load_points(raw: object, known_communes: set[str], fail) -> tuple[CollectionPoint, ...]:
    if not isinstance(raw, list):
        fail("[[collection_points]]", "must be an array of tables ([[collection_points]])")
    points = tuple(_load_point(p, n, known_communes, fail) for n, p in enumerate(raw, start=1))
    _check_unique(list(points), lambda p: p.id, "[[collection_points]], key id", fail)
    _check_unique([(p, name) for p in points for name in p.names()],
                  lambda item: f"{item[0].commune} {point_name_key(item[1])}",
                  "[[collection_points]], key name or aliases (commune and name)", fail)
    return points


def _email(value: object, where: str, fail) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _EMAIL.match(value):
        fail(where, f"{value!r} is not an e-mail address (name@domain.fr)")
    return value


def _cadence(value: object, where: str, fail) -> int | None:
    """Days allowed between two files: a word of ``CADENCES`` or a whole number of days."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in CADENCES:
        return CADENCES[value.strip().lower()]
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 3660:
        return value
    fail(where, f"{value!r} is not a cadence: use one of {', '.join(CADENCES)} or a whole "
                "number of days between 1 and 3660 (leave the key out when the partner has no "
                "expected rhythm)")


def _check_unique(items: list, key, what: str, fail) -> None:
    seen: set = set()
    for item in items:
        if key(item) in seen:
            fail(what, f"{key(item)!r} appears twice")
        seen.add(key(item))


def _check_results(raw: object, fail) -> None:
    _check_keys(raw, RESULTS_KEYS, "[results]", fail)
    for number, target in enumerate(raw.get("targets", []), start=1):
        _check_keys(target, TARGET_KEYS, f"[[results.targets]] number {number}", fail)


def _share(raw: dict, key: str, low: float, high: float | None, fail) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= low or (
            high is not None and value >= high):
        bounds = f"greater than {low}" + (f" and less than {high}" if high is not None else "")
        fail(f"[publication], key {key}", f"{value!r} must be a number {bounds}")
    return float(value)


def _load_publication(raw: object, fail) -> PublicationRules:
    _check_keys(raw, PUBLICATION_KEYS, "[publication]", fail)
    default = PublicationRules()
    history = raw.get("history", default.history)
    if isinstance(history, bool) or not isinstance(history, int) or history < 1:
        fail("[publication], key history", f"{history!r} must be a whole number of 1 or more")
    minimum = raw.get("min_previous_value", default.min_previous_value)
    if isinstance(minimum, bool) or not isinstance(minimum, (int, float)) or minimum < 0:
        fail("[publication], key min_previous_value", f"{minimum!r} must be a number, 0 or more")
    drop = _share(raw, "max_figure_drop", 0, 1, fail)
    share = _share(raw, "min_file_share", 0, 1, fail)
    return PublicationRules(
        max_figure_drop=default.max_figure_drop if drop is None else drop,
        max_figure_rise=_share(raw, "max_figure_rise", 0, None, fail),
        min_previous_value=float(minimum),
        min_file_share=default.min_file_share if share is None else share,
        history=history)


def _population_year(info: dict, communes: tuple[Commune, ...], fail) -> int | None:
    """Populations without their vintage could not be cited next to the rates."""
    year = info.get("population_year")
    if year is not None and not (isinstance(year, int) and 1800 < year < 2200):
        fail("[territory], key population_year", f"{year!r} is not a year")
    if year is None and any(c.population for c in communes):
        fail("[territory], key population_year",
             "is required when communes give their population (the INSEE vintage)")
    return year


def load_territory(path: Path | None = None) -> Territory:
    """The territory configuration, checked whole: ``ConfigError`` names the file, the table
    (partner, commune) and the key of the first problem."""
    path = Path(path or settings.get("INCLUSION_TERRITORY"))

    def fail(where: str, problem: str):
        raise ConfigError(f"{path}: {where}: {problem}")

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    for key in raw:
        if key not in TOP_KEYS:
            fail("top level", f"unknown table {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    info = _check_keys(raw.get("territory"), TERRITORY_KEYS, "[territory]", fail)
    try:
        ZoneInfo(info.get("timezone", DEFAULT_TIMEZONE))
    except (ZoneInfoNotFoundError, ValueError):
        fail("[territory], key timezone", f"unknown timezone {info['timezone']!r}")
    for key in ("contact_email", "steward_email"):
        _email(info.get(key), f"[territory], key {key}", fail)
    communes = tuple(_load_commune(c, f"commune {c.get('insee', '?')!r}"
                                   if isinstance(c, dict) else "[[communes]]", fail)
                     for c in raw.get("communes", []))
    _check_unique(list(communes), lambda c: c.insee, "[[communes]], key insee", fail)
    known = {c.insee for c in communes}
    partners = tuple(_load_partner(p, known, fail) for p in raw.get("partners", []))
    _check_unique(list(partners), lambda p: p.id, "[[partners]], key id", fail)
    _check_unique(list(partners), lambda p: p.inbox, "[[partners]], key inbox", fail)
    if "results" in raw:
        _check_results(raw["results"], fail)
    return Territory(
        name=info["name"],
        short_name=info.get("short_name", info["name"]),
        site_title=info.get("site_title", info["name"]),
        contact_email=info.get("contact_email", ""),
        contact_phone=info.get("contact_phone", ""),
        timezone=info.get("timezone", DEFAULT_TIMEZONE),
        site_url=info.get("site_url", "").rstrip("/"),
        communes=communes,
        partners=partners,
        population_year=_population_year(info, communes, fail),
        population_source=str(info.get("population_source", "")),
        steward_email=info.get("steward_email", info.get("contact_email", "")),
        publication=_load_publication(raw.get("publication", {}), fail),
        collection_points=_load_points(raw.get("collection_points", []), known, fail),
    )


@dataclass(frozen=True)
class DataPaths:
    """Every runtime folder, all under one root (``INCLUSION_DATA``, default ``./data``)."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def warehouse_file(self) -> Path:
        return self.root / "warehouse" / "warehouse.sqlite"

    @property
    def site_root(self) -> Path:
        return self.root / "site"

    @property
    def site_builds(self) -> Path:
        return self.site_root / "builds"

    @property
    def site_current(self) -> Path:
        """Symlink to the build residents see; swapped atomically by ``publish.site``."""
        return self.site_root / "current"


    def partner_inbox(self, partner: Partner) -> Path:
        return self.inbox / partner.inbox


def data_paths() -> DataPaths:
    return DataPaths(settings.get("INCLUSION_DATA").resolve())


def warehouse_url() -> str:
    """SQLAlchemy URL of the warehouse; ``INCLUSION_WAREHOUSE_URL`` overrides the SQLite file."""
    url = settings.get("INCLUSION_WAREHOUSE_URL")
    if url:
        return url
    return f"sqlite:///{data_paths().warehouse_file}"
