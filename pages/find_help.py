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

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pipeline.contracts.datasets import WORKSHOP_TOPICS
from pipeline.contracts.venues import SERVICES
from pages.venues import distance_text, haversine_to_many

NEAREST_VENUES = 5
# Venues ordered once per point (``Nearby``): enough for every need but the rarest.
RANKED = 256
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


class Nearby:
    """The venues, ready to be searched from many points: coordinates as arrays and which
    venues answer each need, computed once. At national scale (30,000 venues, 1,000 communes,
    a dozen lists per commune) a list costs one vectorised pass, not 30,000 Python calls."""

    def __init__(self, venues: list[dict]) -> None:
        self.venues = venues
        self.lat, self.lon = _coordinates(venues)
        self.placed = ~np.isnan(self.lat)
        self._masks: dict[str | None, np.ndarray] = {}
        self._unplaced: dict[str, list[dict]] = {}
        self._ranked_for: np.ndarray | None = None
        self._ranked_order: tuple[np.ndarray, float] = (np.empty(0, dtype=np.intp), math.inf)
        for venue in venues:
            if venue["latitude"] is None:
                self._unplaced.setdefault(venue["commune"], []).append(venue)

    def distances(self, point: tuple[float, float]) -> np.ndarray:
        """Metres from ``point`` to every venue (NaN without coordinates)."""
        return haversine_to_many(point, self.lat, self.lon)

    def _mask(self, need: Need | None) -> np.ndarray:
        key = need.slug if need else None
        if key not in self._masks:
            self._masks[key] = self.placed & np.array(
                [matches(need, v) for v in self.venues], dtype=bool)
        return self._masks[key]

    def nearest(self, need: Need | None, commune: str, distances: np.ndarray,
                limit: int) -> list[dict]:
        """The ``limit`` matching venues nearest (``distances`` from ``self.distances``),
        nearest first, each as ``{"lieu": view, "distance": "à 850 m"}``; venues of the
        commune itself without coordinates (a mobile venue) follow, as « dans la commune »."""
        found = [{"lieu": self.venues[i], "distance": f"à {distance_text(float(distances[i]))}"}
                 for i in self._nearest_matching(need, distances, limit)]
        found += [{"lieu": v, "distance": "dans la commune, emplacement variable"}
                  for v in self._unplaced.get(commune, []) if matches(need, v)]
        return found

    def _nearest_matching(self, need: Need | None, distances: np.ndarray,
                          limit: int) -> list[int]:
        """Positions of the ``limit`` matching venues nearest, ordered by distance then name.
        A point's pages ask for a dozen needs with the same ``distances``: its ``RANKED``
        nearest venues are ordered once, and a need takes its first matches among them when
        they are all nearer than any venue left out; otherwise it searches every venue."""
        mask = self._mask(need)
        ranked, edge = self._ranked(distances)
        hits = ranked[mask[ranked]]
        if len(hits) >= limit and (limit == 0 or distances[hits[limit - 1]] < edge):
            return hits[:limit].tolist()
        candidates = np.flatnonzero(mask)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(distances[candidates], limit - 1)[:limit]]
        return sorted(candidates, key=lambda i: (distances[i], self.venues[i]["nom"]))

    def _ranked(self, distances: np.ndarray) -> tuple[np.ndarray, float]:
        """The ``RANKED`` placed venues nearest (all when fewer), ordered by distance then
        name, and the distance below which no venue was left out; kept for the last
        ``distances`` asked about."""
        if self._ranked_for is not distances:
            placed = np.flatnonzero(self.placed)
            edge = math.inf
            if len(placed) > RANKED:
                placed = placed[np.argpartition(distances[placed], RANKED - 1)[:RANKED]]
                edge = float(distances[placed].max())
            order = sorted(placed, key=lambda i: (distances[i], self.venues[i]["nom"]))
            self._ranked_for = distances
            self._ranked_order = (np.array(order, dtype=np.intp), edge)
        return self._ranked_order


def nearest_venues(need: Need | None, commune: str, point: tuple[float, float],
                   venues: list[dict], limit: int) -> list[dict]:
    """``Nearby.nearest`` for one point (the plan keeps one ``Nearby`` for every page)."""
    nearby = Nearby(venues)
    return nearby.nearest(need, commune, nearby.distances(point), limit)


class Around(NamedTuple):
    """The upcoming sessions within ``WORKSHOP_RADIUS_M`` of a point: their positions in the
    list (soonest first) and their distances in metres."""

    indices: np.ndarray
    distances: np.ndarray


class NearbySessions:
    """The upcoming sessions (soonest first), ready to be searched from many points."""

    def __init__(self, sessions: list[dict]) -> None:
        self.sessions = sessions
        # 300,000 sessions take place in a few thousand venues: distances are computed once
        # per place, then spread to the sessions held there.
        places: dict[tuple, int] = {}
        self.place_of = np.fromiter(
            (places.setdefault((s.get("latitude"), s.get("longitude")), len(places))
             for s in sessions), dtype=np.intp, count=len(sessions))
        self.lat, self.lon = _coordinates([{"latitude": lat, "longitude": lon}
                                           for lat, lon in places])
        self.topics = np.array([s["thematique"] for s in sessions], dtype=object)
        self._topic_masks: dict[tuple, np.ndarray] = {}

    def around(self, point: tuple[float, float]) -> Around:
        to_places = haversine_to_many(point, self.lat, self.lon)
        indices = np.flatnonzero((to_places <= WORKSHOP_RADIUS_M)[self.place_of])
        return Around(indices, to_places[self.place_of[indices]])

    def next(self, need: Need, around: Around, limit: int = NEXT_WORKSHOPS) -> list[dict]:
        """The soonest sessions on the need's topics within ``WORKSHOP_RADIUS_M``."""
        if not need.topics or not self.sessions:
            return []
        chosen = np.flatnonzero(self._on_topics(need.topics)[around.indices])[:limit]
        return [{"seance": self.sessions[around.indices[i]],
                 "distance": f"à {distance_text(float(around.distances[i]))}"}
                for i in chosen]

    def _on_topics(self, topics) -> np.ndarray:
        key = tuple(topics)
        if key not in self._topic_masks:
            self._topic_masks[key] = np.isin(self.topics, list(key))
        return self._topic_masks[key]


def next_workshops(need: Need, point: tuple[float, float], sessions: list[dict],
                   limit: int = NEXT_WORKSHOPS) -> list[dict]:
    """``NearbySessions.next`` for one point."""
    nearby = NearbySessions(sessions)
    return nearby.next(need, nearby.around(point), limit)


def _coordinates(items: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes as arrays, NaN where unknown."""
    lat = [np.nan if i.get("latitude") is None else i["latitude"] for i in items]
    lon = [np.nan if i.get("longitude") is None else i["longitude"] for i in items]
    return np.array(lat, dtype=float), np.array(lon, dtype=float)


def guide_data(venues: list[dict], sessions: list[dict], places: list[dict]) -> dict:
    """What the guided pages and the sheets need: the needs offered, and the communes that
    have a reference point (``places`` from ``pages.site_data``), in name order."""
    return {"needs": offered_needs(venues, sessions),
            "communes": [{"commune": p["commune"], "nom_commune": p["nom_commune"],
                          "point": (p["latitude"], p["longitude"])} for p in places]}
