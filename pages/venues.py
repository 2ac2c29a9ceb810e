"""The venue directory as residents see it: humanised hours, safe links, workshops held there.

Links coming from partner data are kept only with an http(s) scheme; everything else is text,
escaped by the templates.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from functools import lru_cache
from urllib.parse import urlsplit

import pandas as pd

from pipeline.contracts.model import normalize_header
from pipeline.contracts.venues import VENUES
from pipeline.read.hours import describe
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
        osm = (f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=18/{lat:.5f}/{lon:.5f}"
               if isinstance(lat, float) and isinstance(lon, float) and not pd.isna(lat) else None)
        support = split(row.get("prise_en_charge_specifique"))
        views.append({
            "id": row["id"], "slug": slug,
            "nom": row["nom"], "commune": row.get(INSEE),
            "nom_commune": communes.get(row.get(INSEE), row.get(VENUES.commune_name_column)),
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
            "accessible": bool(support) or bool(safe_url(row.get("fiche_acces_libre"))),
            "ateliers": [],
        })
    return views
