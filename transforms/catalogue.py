"""The indicator catalogue: the single description of every published figure.

Each ``Indicator`` says what it is (id, French label, definition, unit, formula in words, source
dataset, breakdowns, decimals) and how it is computed (``compute``: a function of the dataset's
rows for one group — one commune and year, the whole territory and year, one topic…). From this
one list come:

- the computations (``transforms.results`` groups rows and calls ``compute``),
- the methodology page (``methodology.html``),
- the data dictionary of the downloads (``transforms.opendata``: headers and Table Schema),
- the chart titles and table headers of the results pages.

Rows given to ``compute`` are already prepared by ``prepare`` (typed, with an ``annee`` column,
current rows only: superseded versions never reach this module).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Literal

import pandas as pd

Unit = Literal["nombre", "heures", "taux", "euros", "jours"]

HELD, CANCELLED = "realisee", "annulee"


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    # Column whose calendar year places a row in a year, and what that date means.
    date_column: str | None
    date_meaning: str
    # Indicator whose value < threshold triggers small-count suppression for a row (it counts
    # people), or None when the dataset counts no people.
    people: str | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    definition: str
    unit: Unit
    formula: str
    dataset: str
    compute: Callable[[pd.DataFrame], float] = field(repr=False, compare=False)
    breakdowns: tuple[str, ...] = ("annee", "commune")
    decimals: int = 0
    # Summable over communes and years (counts); rates, medians and distinct counts are not.
    additive: bool = True
    # Withheld together with the dataset's people count (it would reveal it).
    reveals_people: bool = False

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS[self.unit]

    @property
    def table_type(self) -> str:
        """Frictionless field type of the published value."""
        return "integer" if self.decimals == 0 and self.unit != "taux" else "number"


UNIT_LABELS = {"nombre": "nombre", "heures": "heures", "taux": "proportion (0 à 1)",
               "euros": "euros", "jours": "jours"}
BREAKDOWN_LABELS = {"annee": "année civile", "commune": "commune (code INSEE)",
                    "thematique": "thématique", "public": "public visé",
                    "service": "service proposé", "label": "label ou dispositif"}

DATASETS: dict[str, Dataset] = {d.id: d for d in (
    Dataset("ateliers", "Ateliers numériques", "date", "date de la séance", people="participants"),
    Dataset("pass", "Pass numérique", "date_distribution", "date de remise du pass",
            people="carnets_distribues"),
    Dataset("collecte", "Collecte de téléphones usagés", "date", "date de la relève du collecteur"),
    Dataset("lieux", "Lieux de médiation numérique", None,
            "état de l'annuaire au jour de la publication"),
)}


# --- workshops -------------------------------------------------------------------------------

def _held(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["statut"] == HELD]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def _used(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["date_utilisation"].notna()]


def _median_delay(rows: pd.DataFrame) -> float:
    used = _used(rows)
    if used.empty:
        return float("nan")
    days = (pd.to_datetime(used["date_utilisation"]) - pd.to_datetime(used["date_distribution"])).dt.days
    return float(days.median())


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["telephones_reconditionnes"].notna() | rows["telephones_recycles"].notna()]


def _filled(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows:
        return pd.Series(False, index=rows.index)
    return rows[column].fillna("").astype(str).str.strip().ne("")


def _labelled(rows: pd.DataFrame) -> float:
    return float((_filled(rows, "dispositif_programmes_nationaux")
                  | _filled(rows, "formations_labels")).sum())


CATALOGUE: tuple[Indicator, ...] = (
    Indicator("seances_realisees", "Ateliers réalisés",
              "Séances d'atelier qui ont eu lieu.", "nombre",
              "nombre de séances dont le statut est « Réalisée »", "ateliers",
              lambda r: float(len(_held(r))), ("annee", "commune", "thematique", "public")),
    Indicator("seances_annulees", "Ateliers annulés",
              "Séances prévues puis annulées ; elles ne comptent dans aucun autre indicateur.",
              "nombre", "nombre de séances dont le statut est « Annulée »", "ateliers",
              lambda r: float((r["statut"] == CANCELLED).sum())),
    Indicator("participants", "Participations",
              "Personnes présentes aux ateliers réalisés ; une personne venue à deux séances "
              "compte deux fois.", "nombre",
              "somme des présents sur les séances réalisées", "ateliers",
              lambda r: float(_held(r)["presents"].sum()), ("annee", "commune", "thematique", "public"),
              reveals_people=True),
    Indicator("thematiques_distinctes", "Thématiques abordées",
              "Nombre de thématiques différentes parmi les ateliers réalisés.", "nombre",
              "nombre de thématiques distinctes des séances réalisées", "ateliers",
              lambda r: float(_held(r)["thematique"].nunique()), additive=False),
    Indicator("heures_apprenants", "Heures d'apprentissage",
              "Temps passé en atelier par l'ensemble des participants.", "heures",
              "somme, sur les séances réalisées, des présents multipliés par la durée en heures",
              "ateliers",
              lambda r: float((_held(r)["presents"] * _held(r)["duree_minutes"]).sum() / 60),
              reveals_people=True),
    Indicator("taux_remplissage", "Taux de remplissage",
              "Part des places ouvertes qui ont trouvé un inscrit.", "taux",
              "inscrits divisés par les places, sur les séances réalisées", "ateliers",
              lambda r: _ratio(_held(r)["inscrits"].sum(), _held(r)["places"].sum()),
              decimals=3, additive=False, reveals_people=True),
    Indicator("taux_presence", "Taux de présence",
              "Part des inscrits qui sont venus.", "taux",
              "présents divisés par les inscrits, sur les séances réalisées", "ateliers",
              lambda r: _ratio(_held(r)["presents"].sum(), _held(r)["inscrits"].sum()),
              decimals=3, additive=False, reveals_people=True),
    # --- vouchers ----------------------------------------------------------------------------
    Indicator("carnets_distribues", "Carnets remis",
              "Carnets (chéquiers) de pass remis à des habitants ; un carnet correspond à un "
              "bénéficiaire.", "nombre",
              "nombre de numéros de carnet distincts parmi les pass remis dans l'année", "pass",
              lambda r: float(r["numero_carnet"].nunique()), reveals_people=True),
    Indicator("pass_distribues", "Pass remis",
              "Pass numériques remis à des habitants par les prescripteurs.", "nombre",
              "nombre de pass dont la date de remise tombe dans l'année", "pass",
              lambda r: float(len(r)), reveals_people=True),
    Indicator("pass_utilises", "Pass utilisés",
              "Pass remis dans l'année et utilisés dans un lieu agréé (à la date de publication, "
              "quelle que soit l'année d'utilisation).", "nombre",
              "nombre de pass remis dans l'année qui ont une date d'utilisation", "pass",
              lambda r: float(len(_used(r))), reveals_people=True),
    Indicator("taux_utilisation", "Taux d'utilisation des pass",
              "Part des pass remis qui ont été utilisés.", "taux",
              "pass utilisés divisés par pass remis (année de remise)", "pass",
              lambda r: _ratio(len(_used(r)), len(r)), decimals=3, additive=False,
              reveals_people=True),
    Indicator("valeur_utilisee_euros", "Valeur des pass utilisés",
              "Montant des séances de médiation payées avec des pass.", "euros",
              "somme des valeurs faciales des pass utilisés", "pass",
              lambda r: float(_used(r)["valeur_euros"].sum()), reveals_people=True),
    Indicator("delai_median_jours", "Délai médian d'utilisation (jours)",
              "Temps qui sépare, pour la moitié des pass utilisés, la remise de l'utilisation.",
              "jours", "médiane du nombre de jours entre la date de remise et la date "
              "d'utilisation, sur les pass utilisés", "pass", _median_delay, decimals=1,
              additive=False, reveals_people=True),
    Indicator("lieux_utilisation", "Lieux où des pass ont été utilisés",
              "Lieux agréés différents où des pass remis dans l'année ont été utilisés.",
              "nombre", "nombre de lieux d'utilisation distincts", "pass",
              lambda r: float(_used(r)["lieu_utilisation"].nunique()), additive=False,
              reveals_people=True),
    # --- phone collection --------------------------------------------------------------------
    Indicator("points_collecte_actifs", "Points de collecte actifs",
              "Collecteurs relevés au moins une fois dans l'année.", "nombre",
              "nombre de points de collecte distincts ayant au moins une relève", "collecte",
              lambda r: float(r["point_collecte"].nunique()), additive=False),
    Indicator("telephones_collectes", "Téléphones collectés",
              "Téléphones usagés trouvés dans les collecteurs.", "nombre",
              "somme des téléphones collectés lors des relèves de l'année", "collecte",
              lambda r: float(r["telephones_collectes"].sum())),
    Indicator("telephones_reconditionnes", "Téléphones reconditionnés",
              "Téléphones effacés, testés et remis en vente au profit d'Emmaüs International.",
              "nombre", "somme des téléphones reconditionnés d'après le fichier de tri du "
              "reconditionneur, rattachés à l'année de la relève", "collecte",
              lambda r: float(r["telephones_reconditionnes"].sum())),
    Indicator("telephones_recycles", "Téléphones recyclés",
              "Téléphones hors d'usage envoyés au recyclage.", "nombre",
              "somme des téléphones recyclés d'après le fichier de tri, année de la relève",
              "collecte", lambda r: float(r["telephones_recycles"].sum())),
    Indicator("taux_reemploi", "Taux de réemploi",
              "Part des téléphones triés qui ont été reconditionnés plutôt que recyclés.", "taux",
              "reconditionnés divisés par (reconditionnés + recyclés), sur les relèves triées",
              "collecte",
              lambda r: _ratio(_sorted(r)["telephones_reconditionnes"].sum(),
                               _sorted(r)["telephones_reconditionnes"].sum()
                               + _sorted(r)["telephones_recycles"].sum()),
              decimals=3, additive=False),
    # --- venues ------------------------------------------------------------------------------
    Indicator("lieux_recenses", "Lieux recensés",
              "Lieux de médiation numérique de l'annuaire (état au jour de la publication).",
              "nombre", "nombre de lieux de l'annuaire, selon le code INSEE de leur adresse",
              "lieux", lambda r: float(len(r)), ("commune", "service", "label")),
    Indicator("lieux_labellises", "Lieux labellisés",
              "Lieux qui déclarent au moins un label ou dispositif national (France Services, "
              "Conseillers numériques, Aidants Connect…).", "nombre",
              "nombre de lieux dont le champ « dispositif_programmes_nationaux » ou "
              "« formations_labels » est rempli", "lieux",
              _labelled,
              ("commune", "label")),
    Indicator("communes_avec_lieu", "Communes avec au moins un lieu",
              "Communes du territoire où l'annuaire recense au moins un lieu.", "nombre",
              "nombre de codes INSEE distincts parmi les lieux de l'annuaire", "lieux",
              lambda r: float(r["code_insee"].nunique()), ("commune",), additive=False),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in CATALOGUE}


def indicators_of(dataset: str) -> list[Indicator]:
    return [i for i in CATALOGUE if i.dataset == dataset]


def indicator(indicator_id: str) -> Indicator:
    return BY_ID[indicator_id]


def round_value(ind: Indicator, value: float | None) -> float | int | None:
    """The published value: rounded to the catalogue's decimals, the same on pages and files."""
    if value is None or pd.isna(value):
        return None
    # Half away from zero, as people round by hand (Python's round() would give 32 for 32.5).
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-ind.decimals),
                                                 rounding=ROUND_HALF_UP)
    if ind.decimals == 0 and ind.unit != "taux":
        return int(exact)
    return float(exact)
