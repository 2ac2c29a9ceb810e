"""The venue directory as residents see it: humanised hours, safe links, workshops held there,
what residents filter on (hours facets, free of charge, programmes, mobile venues, booking),
and distances between communes.

Links coming from partner data are kept only with an http(s) scheme; everything else is text,
escaped by the templates.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from pipeline.contracts.model import normalize_header
from pipeline.contracts.venues import VENUES
from pipeline.contracts.hours import describe, facets, public_holidays, week_intervals
from transforms.catalogue import accepts_pass

# The venue's INSEE code (its commune's name is in « commune »).
INSEE = VENUES.commune_column


def safe_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"[\s<>\"']", value):
        return value.strip()
    return None


def display_phone(value: object) -> str | None:
    """``+33169310000`` -> ``01 69 31 00 00``."""
    if not isinstance(value, str) or not value:
        return None
    if re.fullmatch(r"\+33\d{9}", value):
        digits = "0" + value[3:]
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    return value


def split(value: object) -> list[str]:
    return [v for v in str(value).split("|") if v] if isinstance(value, str) else []


def hours_lines(value: object) -> tuple[list[str], bool]:
    """Humanised lines, and whether they could be read (else the raw value is shown)."""
    if not isinstance(value, str) or not value.strip():
        return [], True
    lines, readable = _described(value)
    return list(lines), readable


@lru_cache(maxsize=16384)
def _described(value: str) -> tuple[tuple[str, ...], bool]:
    # Directories repeat a few dozen opening-hour patterns across thousands of venues.
    try:
        return tuple(describe(value)), True
    except Exception:  # opening_hours raises its own parser errors; show the value as given
        return (value,), False


@lru_cache(maxsize=16384)
def hours_facets(value: object) -> tuple[str, tuple[str, ...], str | None]:
    """From OSM hours: the usual week as ``"540-720 840-1050"`` (minutes from Monday 00:00,
    read by the browser for « ouvert maintenant »), the facets that hold (``samedi``,
    ``soir``, ``midi``, ``semaine``) and what they say of public holidays. Unreadable or
    missing hours give nothing."""
    if not isinstance(value, str) or not value.strip():
        return "", (), None
    try:
        spans = week_intervals(value)
    except Exception:  # opening_hours raises its own parser errors
        return "", (), None
    held = tuple(name for name, holds in facets(spans).items() if holds)
    return " ".join(f"{a}-{b}" for a, b in spans), held, public_holidays(value)


def search_text(*values: object) -> str:
    """Words a resident may type, without case, accents or punctuation: the browser
    normalises the query the same way (``filtres.js``)."""
    return " ".join(filter(None, (normalize_header(str(v).replace("’", " ")).replace("_", " ")
                                  for v in values if v)))


EARTH_RADIUS_M = 6_371_000


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (the same formula as ``filtres.js``)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def haversine_to_many(point: tuple[float, float], lat: np.ndarray,
                      lon: np.ndarray) -> np.ndarray:
    """Metres from ``point`` to each position (NaN where unknown), vectorised, with the
    formula of ``haversine_m`` (the results may differ from it in the last digits)."""
    p1, p2 = math.radians(point[0]), np.radians(lat)
    dp, dl = p2 - p1, np.radians(lon - point[1])
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def distance_text(metres: float) -> str:
    """``850`` -> ``"850 m"``, ``3240`` -> ``"3,2 km"``, ``12400`` -> ``"12 km"``."""
    if metres < 1000:
        return f"{max(10, round(metres / 10) * 10)} m"
    if metres < 10_000:
        return f"{metres / 1000:.1f} km".replace(".", ",")
    return f"{round(metres / 1000)} km"


def commune_points(communes, views: list[dict]) -> dict[str, tuple[float, float]]:
    """Each commune's reference point: its town hall from territory.toml, else the centre
    of its venues that have coordinates; communes with neither are left out."""
    points: dict[str, tuple[float, float]] = {}
    for commune in communes:
        if commune.latitude is not None:
            points[commune.insee] = (commune.latitude, commune.longitude)
            continue
        placed = [(v["latitude"], v["longitude"]) for v in views
                  if v["commune"] == commune.insee and v["latitude"] is not None]
        if placed:
            points[commune.insee] = (sum(p[0] for p in placed) / len(placed),
                                     sum(p[1] for p in placed) / len(placed))
    return points


def nearest_communes(code: str, candidates: list[tuple[str, str]],
                     points: dict[str, tuple[float, float]], limit: int = 3) -> list[dict]:
    """The ``limit`` communes of ``candidates`` (code, name) nearest to ``code``, nearest
    first, with their distance told in French; none when ``code`` has no point."""
    return NearestCommunes(candidates, points)(code, limit)


class NearestCommunes:
    """``nearest_communes`` for every commune of a territory against the same candidates:
    their points as arrays, so that each search is one vectorised pass (1,000 communes
    against 1,000 candidates: a million Python distance calls before). The few communes
    that pass are then measured and ordered exactly as one by one."""

    # Vectorised and scalar distances differ by far less than this (metres): a candidate
    # within it of the ``limit``-th is measured exactly, so none of the nearest is missed.
    MARGIN_M = 1.0

    def __init__(self, candidates: list[tuple[str, str]],
                 points: dict[str, tuple[float, float]]) -> None:
        self.points = points
        self.placed = [(other, name) for other, name in candidates if other in points]
        self.codes = np.array([other for other, _ in self.placed], dtype=object)
        self.lat = np.array([points[other][0] for other, _ in self.placed], dtype=float)
        self.lon = np.array([points[other][1] for other, _ in self.placed], dtype=float)

    def __call__(self, code: str, limit: int = 3) -> list[dict]:
        if code not in self.points or limit <= 0:
            return []
        here = self.points[code]
        approx = haversine_to_many(here, self.lat, self.lon)
        approx[self.codes == code] = np.inf
        reachable = int(np.isfinite(approx).sum())
        if reachable > limit:
            bound = np.partition(approx, limit - 1)[limit - 1]
            chosen = np.flatnonzero(approx <= bound + self.MARGIN_M)
        else:
            chosen = np.flatnonzero(np.isfinite(approx))
        found = sorted((haversine_m(*here, *self.points[self.placed[i][0]]),
                        self.placed[i][1], self.placed[i][0]) for i in chosen)
        return [{"commune": other, "nom_commune": name, "distance": distance_text(metres)}
                for metres, name, other in found[:limit]]


def public_holiday_dates(start: date, days: int = 400) -> list[str]:
    """Public holidays of metropolitan France from ``start`` on, as ISO dates: what the
    browser needs to tell a venue closed on public holidays (« PH off ») is closed today."""
    found = []
    for year in (start.year, start.year + 1, start.year + 2):
        easter = _easter(year)
        fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
        found += [date(year, m, d) for m, d in fixed]
        found += [easter + timedelta(days=n) for n in (1, 39, 50)]
    return sorted(d.isoformat() for d in found if start <= d < start + timedelta(days=days))


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l) // 433
    month = (h + l - 7 * m + 90) // 25
    return date(year, month, (h + l - 7 * m + 33 * month + 19) % 32)


def slugify(value: object) -> str:
    """``"Lieu_1"`` -> ``"lieu-1"``: the readable part of a page path."""
    return re.sub(r"[^a-z0-9-]+", "-", normalize_header(value)).strip("-")


def _suffix(identity: tuple[str, str], length: int) -> str:
    text = "\x1f".join(identity)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def unique_slugs(bases: list[str], identities: list[tuple[str, str]],
                 fallback: str) -> list[str]:
    """One distinct page path per (partner, id), in the order given.

    Ids that differ only in case or punctuation (``Lieu-1``, ``lieu_1``), or the same id sent
    by two partners, give the same readable slug: each of them then gets a short hash of its
    partner and id, so no page is written twice and a path never silently changes owner. A
    slug depends only on its own identity and on which other identities share its base, never
    on row order, so it stays the same from build to build while the colliding set does.
    """
    bases = [base or fallback for base in bases]
    slugs = list(bases)
    length = 6
    while True:
        counts = Counter(slugs)
        clashing = [i for i, slug in enumerate(slugs) if counts[slug] > 1]
        if not clashing or length > 64:
            break
        for i in clashing:
            slugs[i] = f"{bases[i]}-{_suffix(identities[i], length)}"
        length += 4
    if clashing:  # the same (partner, id) twice: only a corrupt warehouse gets here
        raise ValueError(f"identifiants en double : {sorted({identities[i] for i in clashing})}")
    return slugs


def venue_key(commune: str, name: str) -> tuple[str, str]:
    return commune, normalize_header(name)


def venue_views(venues: pd.DataFrame, redeemed_at: set[str], communes: dict[str, str]) -> list[dict]:
    views = []
    venues = venues.assign(accepte_pass=accepts_pass(venues, redeemed_at))
    venues = venues.astype(object).where(venues.notna(), None)  # NaN would render as "nan"
    rows = venues.sort_values([INSEE, "nom"]).to_dict(orient="records")
    slugs = unique_slugs([slugify(row["id"]) for row in rows],
                         [(str(row.get("partner") or ""), str(row["id"])) for row in rows], "lieu")
    for row, slug in zip(rows, slugs):
        hours, readable = hours_lines(row.get("horaires"))
        labels = split(row.get("formations_labels")) + split(row.get("dispositif_programmes_nationaux"))
        lat, lon = row.get("latitude"), row.get("longitude")
        placed = isinstance(lat, float) and isinstance(lon, float) and not (
            pd.isna(lat) or pd.isna(lon))
        osm = (f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=18/{lat:.5f}/{lon:.5f}"
               if placed else None)
        support = split(row.get("prise_en_charge_specifique"))
        week, held, holidays = hours_facets(row.get("horaires"))
        programmes = split(row.get("dispositif_programmes_nationaux"))
        fees = split(row.get("frais_a_charge"))
        name_commune = communes.get(row.get(INSEE), row.get(VENUES.commune_name_column))
        views.append({
            "id": row["id"], "slug": slug,
            "nom": row["nom"], "commune": row.get(INSEE),
            "nom_commune": name_commune,
            "adresse": row.get("adresse"), "complement_adresse": row.get("complement_adresse"),
            "code_postal": row.get("code_postal"), "horaires": hours,
            "horaires_lisibles": readable, "services": split(row.get("services")),
            "publics": split(row.get("publics_specifiquement_adresses")),
            "prise_en_charge": support, "frais": split(row.get("frais_a_charge")),
            "labels": labels + ([other] if (other := str(row.get("autres_formations_labels")
                                                             or "")) else []),
            "modalites_acces": split(row.get("modalites_acces")),
            "accompagnement": split(row.get("modalites_accompagnement")),
            "telephone": display_phone(row.get("telephone")),
            "telephone_lien": row.get("telephone") if isinstance(row.get("telephone"), str) else None,
            "courriels": split(row.get("courriels")),
            "sites": [u for u in (safe_url(v) for v in split(row.get("site_web"))) if u],
            "acces_libre": safe_url(row.get("fiche_acces_libre")),
            "prise_rdv": safe_url(row.get("prise_rdv")),
            "osm": osm, "presentation": row.get("presentation_resume"),
            "date_maj": row.get("date_maj"), "accepte_pass": bool(row["accepte_pass"]),
            # Who sent it and when the file arrived, for « informations transmises par ».
            "partner": row.get("partner"), "source": row.get("source"),
            "structure_parente": row.get("structure_parente"),
            "recu_le": str(row.get("source_received_at") or "")[:10] or None,
            "accessible": bool(support) or bool(safe_url(row.get("fiche_acces_libre"))),
            "ateliers": [],
            "latitude": round(lat, 6) if placed else None,
            "longitude": round(lon, 6) if placed else None,
            "semaine_horaires": week, "facettes": held, "feries": holidays,
            "gratuit": next((fee for fee in fees if fee.startswith("Gratuit")), None),
            "dispositifs": programmes,
            "itinerant": "Itinérant" in split(row.get("itinerance")),
            "presentation_detail": row.get("presentation_detail"),
            "texte": search_text(row["nom"], row.get("adresse"), row.get("complement_adresse"),
                                 row.get("code_postal"), name_commune,
                                 " ".join(split(row.get("services"))), " ".join(labels)),
        })
    return views
