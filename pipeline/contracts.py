"""Dataset contracts: the one declarative description of what partners send.

Each contract lists the French columns partners use, their types, allowed values and bounds,
the column that identifies a row, and the rules that span columns. From it come:
- the Great Expectations suite stored in ``expectations/<dataset>.json`` (``pipeline.suites``),
- the reading and typing of partner files (``pipeline.reading``),
- the warehouse table (``pipeline.warehouse``),
- the partners' guide on the site.
Change a rule here, run ``make expectations``, and every consumer follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "insee", "date", "time", "integer", "choice"]
Severity = Literal["erreur", "avertissement"]


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: ColumnType
    description: str
    example: str
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[Choice, ...] = ()
    # Required only for rows whose status is one of these codes (e.g. attendance once held).
    required_when_status: tuple[str, ...] = ()
    # Other headers partners' tools commonly export for this column (compared without case,
    # accents, spaces or punctuation).
    aliases: tuple[str, ...] = ()

    @property
    def choice_labels(self) -> list[str]:
        return [c.label for c in self.choices]


@dataclass(frozen=True)
class PairRule:
    """``smaller`` must be <= ``larger`` on every row where both are filled."""

    smaller: str
    larger: str
    message: str
    fix: str
    severity: Severity = "erreur"


@dataclass(frozen=True)
class Contract:
    dataset: str
    title: str
    description: str
    key: str
    columns: tuple[Column, ...]
    pair_rules: tuple[PairRule, ...] = field(default=())
    status_column: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


WORKSHOP_TOPICS = (
    Choice("smartphone", "Prise en main du smartphone"),
    Choice("usages-essentiels", "Usages essentiels du numérique"),
    Choice("donnees-personnelles", "Protection des données personnelles"),
    Choice("services-en-ligne", "Accès aux services en ligne"),
)

WORKSHOP_PUBLICS = (
    Choice("seniors", "Seniors"),
    Choice("demandeurs-emploi", "Personnes éloignées de l'emploi"),
    Choice("jeunes", "Jeunes"),
    Choice("tout-public", "Tout public"),
)

WORKSHOP_STATUSES = (
    Choice("prevue", "Prévue"),
    Choice("realisee", "Réalisée"),
    Choice("annulee", "Annulée"),
)

WORKSHOPS = Contract(
    dataset="ateliers",
    title="Ateliers numériques",
    description=(
        "Une ligne par séance d'atelier : séances passées avec la fréquentation, "
        "séances à venir avec les places et le contact d'inscription."
    ),
    key="identifiant_seance",
    status_column="statut",
    columns=(
        Column("identifiant_seance", "Identifiant de la séance", "text",
               "Votre identifiant de la séance, unique dans vos fichiers ; il sert à corriger "
               "une séance en renvoyant une ligne avec le même identifiant.", "ATL-2026-001",
               aliases=("id", "identifiant", "id_seance", "numero_seance")),
        Column("commune", "Commune (code INSEE)", "insee",
               "Code INSEE à 5 caractères de la commune où a lieu la séance.", "91477",
               aliases=("code_insee", "insee", "code_commune")),
        Column("lieu", "Lieu", "text",
               "Nom du lieu d'accueil (médiathèque, mairie, France Services…).",
               "Médiathèque George Sand"),
        Column("adresse", "Adresse du lieu", "text",
               "Adresse postale du lieu, pour que les habitants le trouvent.",
               "1 place de la Mairie, 91120 Palaiseau", required=False),
        Column("date", "Date", "date", "Date de la séance (JJ/MM/AAAA).", "31/01/2026",
               aliases=("date_seance", "jour")),
        Column("heure_debut", "Heure de début", "time", "Heure de début (14h30 ou 14:30).",
               "14h30",
               aliases=("heure", "debut", "horaire")),
        Column("duree_minutes", "Durée (minutes)", "integer",
               "Durée de la séance en minutes (environ une heure en général).", "60",
               minimum=15, maximum=480,
               aliases=("duree", "duree_min", "duree_en_minutes")),
        Column("thematique", "Thématique", "choice", "Thème de l'atelier.",
               WORKSHOP_TOPICS[0].label, choices=WORKSHOP_TOPICS,
               aliases=("theme", "sujet")),
        Column("public", "Public visé", "choice", "Public auquel la séance s'adresse.",
               WORKSHOP_PUBLICS[0].label, choices=WORKSHOP_PUBLICS,
               aliases=("public_vise", "publics")),
        Column("places", "Places", "integer", "Nombre de places ouvertes (groupes de 5 à 12).",
               "10", minimum=1, maximum=30,
               aliases=("nombre_de_places", "capacite", "places_ouvertes")),
        Column("inscrits", "Inscrits", "integer", "Nombre de personnes inscrites.", "8",
               minimum=0, maximum=30,
               aliases=("nombre_inscrits", "nb_inscrits")),
        Column("presents", "Présents", "integer",
               "Nombre de personnes venues ; vide pour une séance à venir.", "7",
               required=False, minimum=0, maximum=30, required_when_status=("realisee",),
               aliases=("nombre_presents", "nb_presents", "participants")),
        Column("statut", "Statut", "choice", "Prévue, réalisée ou annulée.",
               WORKSHOP_STATUSES[1].label, choices=WORKSHOP_STATUSES),
        Column("inscription", "Comment s'inscrire", "text",
               "Contact public pour s'inscrire (accueil de la mairie, numéro du service) ; "
               "jamais les coordonnées d'un participant.", "Accueil de la mairie, 01 69 31 00 00",
               aliases=("contact_inscription", "inscriptions")),
    ),
    pair_rules=(
        PairRule("inscrits", "places",
                 "Il y a plus d'inscrits que de places.",
                 "Vérifiez le nombre de places ou le nombre d'inscrits."),
        PairRule("presents", "inscrits",
                 "Il y a plus de présents que d'inscrits.",
                 "Comptez les personnes venues sans inscription parmi les inscrits, "
                 "ou corrigez le nombre de présents."),
    ),
)

CONTRACTS: dict[str, Contract] = {c.dataset: c for c in (WORKSHOPS,)}


def contract_for(dataset: str) -> Contract:
    return CONTRACTS[dataset]
