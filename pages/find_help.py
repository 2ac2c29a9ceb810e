"""The guided path for residents who do not know what to search for, and the referrers'
printable sheets.

A need is said in plain words and mapped to the national venue standard's ``services`` and to
the workshop topics. ``/trouver/`` lists the needs, ``/trouver/<besoin>/`` the communes, and
``/trouver/<besoin>/<INSEE>/`` the nearest matching venues (from the commune's reference
point, ``pages.venues.commune_points``) and the next matching workshops nearby: static pages,
plain links, as many as needs × communes, each a handful of venues. ``/fiches/<INSEE>/`` and
``/fiches/<INSEE>/<besoin>/`` are the same choice laid out on an A4 sheet, with a QR code to
each venue's page.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.contracts.datasets import WORKSHOP_TOPICS
from pipeline.contracts.venues import SERVICES
from pages.venues import distance_text, haversine_m

NEAREST_VENUES = 5
SHEET_VENUES = 8
NEXT_WORKSHOPS = 4
# Workshops farther than this from the commune's point are not « near » a resident.
WORKSHOP_RADIUS_M = 15_000


@dataclass(frozen=True)
class Need:
    slug: str
    label: str  # what the resident clicks, in their words
    services: tuple[str, ...]  # values of the national standard's ``services``
    topics: tuple[str, ...] = ()  # workshop topics (labels of WORKSHOP_TOPICS)


NEEDS = (
    Need("demarches", "Faire une démarche en ligne : CAF, impôts, retraite, santé",
         ("Aide aux démarches administratives",), ("Accès aux services en ligne",)),
    Need("telephone", "Apprendre à me servir de mon téléphone ou de ma tablette",
         ("Maîtrise des outils numériques du quotidien",), ("Prise en main du smartphone",)),
    Need("ordinateur", "Apprendre l'ordinateur, internet et les courriels",
         ("Maîtrise des outils numériques du quotidien", "Compréhension du monde numérique"),
         ("Usages essentiels du numérique",)),
    Need("arnaques", "Me protéger des arnaques et protéger mes informations",
         ("Utilisation sécurisée du numérique",), ("Protection des données personnelles",)),
    Need("emploi", "Chercher un emploi ou une formation sur internet",
         ("Insertion professionnelle via le numérique",)),
    Need("enfants", "Accompagner mes enfants : école en ligne, écrans",
         ("Parentalité et éducation avec le numérique",)),
    Need("equipement", "Avoir un ordinateur ou internet, à petit prix ou sur place",
         ("Accès internet et matériel informatique",
          "Acquisition de matériel informatique à prix solidaire")),
    Need("loisirs", "Photos, vidéos, loisirs : créer avec le numérique",
         ("Loisirs et créations numériques",)),
)
NEEDS_BY_SLUG = {need.slug: need for need in NEEDS}
# Each need names only values the contracts know (tests/test_find_help.py).
KNOWN_SERVICES = {choice.label for choice in SERVICES}
KNOWN_TOPICS = {choice.label for choice in WORKSHOP_TOPICS}


def matches(need: Need | None, venue: dict) -> bool:
    return need is None or any(service in need.services for service in venue["services"])


def offered_needs(venues: list[dict], sessions: list[dict]) -> list[Need]:
    """The needs some venue or upcoming workshop of the territory answers, in their order."""
    services = {s for v in venues for s in v["services"]}
    topics = {s["thematique"] for s in sessions}
    return [n for n in NEEDS if services.intersection(n.services) or topics.intersection(n.topics)]


def nearest_venues(need: Need | None, commune: str, point: tuple[float, float],
                   venues: list[dict], limit: int) -> list[dict]:
    """The ``limit`` matching venues nearest to ``point``, nearest first, each as
    ``{"lieu": view, "distance": "à 850 m"}``; venues of the commune itself without
    coordinates (a mobile venue) follow, as « dans la commune »."""
    placed = sorted(((haversine_m(*point, v["latitude"], v["longitude"]), v["nom"], i)
                     for i, v in enumerate(venues)
                     if v["latitude"] is not None and matches(need, v)))
    found = [{"lieu": venues[i], "distance": f"à {distance_text(metres)}"}
             for metres, _name, i in placed[:limit]]
    found += [{"lieu": v, "distance": "dans la commune, emplacement variable"} for v in venues
              if v["latitude"] is None and v["commune"] == commune and matches(need, v)]
    return found


def next_workshops(need: Need, point: tuple[float, float], sessions: list[dict],
                   limit: int = NEXT_WORKSHOPS) -> list[dict]:
    """The soonest upcoming sessions on the need's topics within ``WORKSHOP_RADIUS_M`` (the
    sessions are already soonest first), each with its distance."""
    found = []
    for session in sessions:
        if session["thematique"] not in need.topics or session.get("latitude") is None:
            continue
        metres = haversine_m(*point, session["latitude"], session["longitude"])
        if metres <= WORKSHOP_RADIUS_M:
            found.append({"seance": session, "distance": f"à {distance_text(metres)}"})
            if len(found) == limit:
                break
    return found


def guide_data(venues: list[dict], sessions: list[dict], places: list[dict]) -> dict:
    """What the guided pages and the sheets need: the needs offered, and the communes that
    have a reference point (``places`` from ``pages.site_data``), in name order."""
    return {"needs": offered_needs(venues, sessions),
            "communes": [{"commune": p["commune"], "nom_commune": p["nom_commune"],
                          "point": (p["latitude"], p["longitude"])} for p in places]}
