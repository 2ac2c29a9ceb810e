"""Open-data tables of what the site lists, beside the yearly results: upcoming workshops, phone
collection points with their pickups per month, and the venue directory's description.

Each table is a ``{"name", "path", "title", "fields", "records"}`` like
``pages.opendata.published_tables`` (Table Schema fields), so the same CSV and JSON writers
and the same data package serve them. Only public facts: a workshop's seats left, never its
registrations or attendance, and nobody's name or contact (the registration contact is the
partner's public desk, see the workshops contract).
"""

from __future__ import annotations

from pages.opendata import _csv, _field, _json
from pipeline.contracts.venues import STANDARD_VERSION, VENUES

HOUR_MINUTE = r"^([01]\d|2[0-3]):[0-5]\d$"
YEAR_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
# Contract column types -> Table Schema types of the venue directory's CSV.
VENUE_TYPES = {"integer": "integer", "decimal": "number", "date": "date"}


def upcoming_workshops(sessions: list[dict], site_url: str) -> dict:
    """The sessions still to come (``site_data["upcoming"]``), soonest first."""
    fields = [
        _field("identifiant_seance", "Identifiant de la séance", "string",
               "Identifiant de la séance chez le partenaire qui l'organise."),
        _field("partenaire", "Partenaire", "string", "Identifiant du partenaire organisateur."),
        _field("code_insee", "Code INSEE", "string", "Code INSEE de la commune de la séance."),
        _field("commune", "Commune", "string", "Nom de la commune."),
        _field("lieu", "Lieu", "string", "Lieu d'accueil de la séance."),
        _field("adresse", "Adresse", "string", "Adresse du lieu ; vide si non communiquée."),
        _field("date", "Date", "date", "Date de la séance."),
        _field("heure_debut", "Heure de début", "string", "Heure de début (HH:MM, heure de "
               "Paris).", constraints={"pattern": HOUR_MINUTE}),
        _field("duree_minutes", "Durée (minutes)", "integer", "Durée prévue en minutes."),
        _field("thematique", "Thématique", "string", "Thème de l'atelier."),
        _field("public", "Public visé", "string", "Public auquel la séance s'adresse."),
        _field("places_restantes", "Places restantes", "integer",
               "Places encore libres d'après le dernier fichier du partenaire."),
        _field("inscription", "Comment s'inscrire", "string",
               "Contact public d'inscription donné par le partenaire (accueil, service)."),
        _field("page", "Page de la séance", "string", "Adresse de la séance sur le site.",
               format="uri"),
    ]
    base = site_url.rstrip("/")
    records = [{"identifiant_seance": s["id"], "partenaire": s["partner"],
                "code_insee": s["commune"], "commune": s["nom_commune"], "lieu": s["lieu"],
                "adresse": s.get("adresse"), "date": s["date"], "heure_debut": s["heure"],
                "duree_minutes": s["duree_minutes"], "thematique": s["thematique"],
                "public": s["public"], "places_restantes": s["places_restantes"],
                "inscription": s["inscription"], "page": f"{base}/ateliers/{s['slug']}/"}
               for s in sessions]
    return {"name": "ateliers-a-venir", "path": "ateliers-a-venir",
            "title": "Prochains ateliers numériques", "fields": fields, "records": records,
            "page": "/ateliers/"}


def phone_pickups(pickups: list[dict], communes: dict[str, str]) -> dict:
    """Collection points and their pickups per month (``site_data["phone_pickups"]``)."""
    fields = [
        _field("code_insee", "Code INSEE", "string", "Code INSEE de la commune du point."),
        _field("commune", "Commune", "string", "Nom de la commune."),
        _field("point_collecte", "Point de collecte", "string",
               "Lieu du collecteur de téléphones, avec son adresse."),
        _field("mois", "Mois", "string", "Mois des relèves (AAAA-MM).",
               constraints={"pattern": YEAR_MONTH}),
        _field("releves", "Relèves", "integer", "Nombre de relèves du collecteur dans le mois."),
        _field("telephones_collectes", "Téléphones collectés", "integer",
               "Téléphones trouvés dans le collecteur lors de ces relèves."),
    ]
    records = [{"code_insee": p["commune"], "commune": communes.get(p["commune"], p["commune"]),
                "point_collecte": p["point_collecte"], "mois": p["mois"],
                "releves": p["releves"], "telephones_collectes": p["telephones_collectes"]}
               for p in pickups]
    return {"name": "collecte-telephones-points", "path": "collecte-telephones-points",
            "title": "Points de collecte de téléphones et relèves par mois", "fields": fields,
            "records": records, "page": "/telephones/"}


def collection_bins(groups: list[dict], site_url: str) -> dict:
    """The used-phone bins territory.toml declares (``site_data["phone_points"]``), with
    their address and hours, emptied yet or not."""
    fields = [
        _field("identifiant", "Identifiant", "string", "Identifiant du collecteur."),
        _field("code_insee", "Code INSEE", "string", "Code INSEE de la commune du collecteur."),
        _field("commune", "Commune", "string", "Nom de la commune."),
        _field("nom", "Nom", "string", "Lieu du collecteur, tel que les relèves le nomment."),
        _field("adresse", "Adresse", "string", "Adresse du lieu qui accueille le collecteur."),
        _field("horaires", "Horaires", "string", "Quand le collecteur est accessible, au format "
               "opening_hours d'OpenStreetMap ; vide si non renseigné."),
        _field("installe_le", "Installé le", "date", "Date d'installation, si connue."),
        _field("latitude", "Latitude", "number", "Latitude WGS84, si connue."),
        _field("longitude", "Longitude", "number", "Longitude WGS84, si connue."),
        _field("derniere_releve", "Dernière relève", "date",
               "Date de la dernière relève reçue ; vide avant la première."),
        _field("affiche", "Affiche", "string", "Adresse de l'affiche A4 du collecteur.",
               format="uri"),
    ]
    base = site_url.rstrip("/")
    records = [{"identifiant": p["id"], "code_insee": g["commune"], "commune": g["nom_commune"],
                "nom": p["nom"], "adresse": p["adresse"], "horaires": p["horaires_osm"],
                "installe_le": p["depuis"], "latitude": p["latitude"],
                "longitude": p["longitude"], "derniere_releve": p["derniere_releve"],
                "affiche": f"{base}{p['affiche']}"}
               for g in groups for p in g["points"] if p["id"]]
    return {"name": "collecteurs-telephones", "path": "collecteurs-telephones",
            "title": "Collecteurs de téléphones déclarés", "fields": fields,
            "records": records, "page": "/telephones/"}


def venue_fields() -> list[dict]:
    """The venue directory's columns (national schema) as Table Schema fields."""
    return [_field(c.name, c.label, VENUE_TYPES.get(c.type, "string"), c.description)
            for c in VENUES.columns]


def venue_resources() -> list[dict]:
    """``lieux.csv`` (tabular, the schema's columns) and ``lieux.json`` (the national schema's
    document: its version, licence and the list of venues)."""
    csv_resource = {"name": "lieux-csv", "title": "Annuaire des lieux de médiation numérique",
                    "description": "Schéma national des lieux de médiation numérique, version "
                                   f"{STANDARD_VERSION}.",
                    "path": "lieux.csv", "format": "csv", "mediatype": "text/csv",
                    "encoding": "utf-8", "profile": "tabular-data-resource",
                    "dialect": {"delimiter": ",", "header": True},
                    "schema": {"fields": venue_fields(), "missingValues": [""]}}
    json_resource = {"name": "lieux-json", "title": "Annuaire des lieux de médiation numérique "
                     "(JSON)", "description": "Document JSON : « schema », « version », "
                     "« licence » et la liste « lieux » (mêmes colonnes que le CSV).",
                     "path": "lieux.json", "format": "json", "mediatype": "application/json",
                     "encoding": "utf-8", "profile": "data-resource"}
    return [csv_resource, json_resource]


def files(tables: list[dict]) -> dict[str, str]:
    """``donnees/<path>.csv`` and ``.json`` of each table."""
    out = {}
    for table in tables:
        out[f"donnees/{table['path']}.csv"] = _csv(table["fields"], table["records"])
        out[f"donnees/{table['path']}.json"] = _json(table["records"])
    return out
