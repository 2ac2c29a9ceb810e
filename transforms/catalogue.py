"""The indicator catalogue: the single description of every published figure.

Each ``Indicator`` says what it is (id, French label, definition, unit, formula in words, source
dataset, breakdowns, decimals) and how it is computed (``compute``: a function of the dataset's
rows for one group — one commune and year, the whole territory and year, one topic…). From this
one list come:

- the computations (``transforms.results`` groups rows and calls ``compute``),
- the methodology page (``methodology.html``),
- the data dictionary of the downloads (``pages.opendata``: headers and Table Schema),
- the chart titles and table headers of the results pages.

Rows given to ``compute`` (and split into ``Groups``) are already prepared by ``prepare`` (typed, with an ``annee`` column,
current rows only: superseded versions never reach this module).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Callable, Literal

import numpy as np
import pandas as pd

from pipeline.contracts.datasets import CONTRACTS, WORKSHOPS
from pipeline.contracts.model import Contract

Unit = Literal["nombre", "heures", "taux", "euros", "jours"]

# Status codes and column of a workshop session, from the workshops' contract.
HELD, CANCELLED = WORKSHOPS.held_status, WORKSHOPS.cancelled_status
STATUS = WORKSHOPS.status_column


@dataclass(frozen=True)
class Dataset:
    """A published dataset: its title and date column come from its contract."""

    id: str
    # Its main indicator (the one charted by commune).
    headline: str
    # Indicator whose value < threshold triggers small-count suppression for a row (it counts
    # people), or None when the dataset counts no people.
    people: str | None = None
    # The columns its indicators use besides the commune and the date, when the table is read
    # with only those (the largest one); empty: every column.
    columns: tuple[str, ...] = ()
    # Columns its indicators need that are computed once from its rows (``prepare``), given
    # its rows and the distinct values of the columns named in ``also_reads``.
    derived: Callable[[pd.DataFrame, dict[tuple[str, str], set]], dict[str, pd.Series]] | None = (
        field(default=None, repr=False, compare=False))
    # (dataset, column) of other datasets whose distinct values ``derived`` reads: those
    # datasets' changes change this dataset's figures.
    also_reads: tuple[tuple[str, str], ...] = ()

    @property
    def contract(self) -> Contract:
        return CONTRACTS[self.id]

    @property
    def title(self) -> str:
        return self.contract.title

    @property
    def date_column(self) -> str | None:
        """Column whose calendar year places a row in a year."""
        return self.contract.date_column

    @property
    def date_meaning(self) -> str:
        return self.contract.date_meaning

    @property
    def read_columns(self) -> tuple[str, ...] | None:
        """The warehouse columns to read (None: all of them)."""
        if not self.columns:
            return None
        placing = (self.contract.commune_column, self.date_column)
        return tuple(c for c in placing if c) + self.columns


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    definition: str
    unit: Unit
    formula: str
    dataset: str
    # The indicator for every group of rows at once (every commune, every topic…): pandas
    # works on whole columns, so 1,000 communes cost about as much as one.
    grouped: Callable[[Groups], pd.Series] = field(repr=False, compare=False)
    breakdowns: tuple[str, ...] = ("annee", "commune")
    decimals: int = 0
    # Summable over communes and years (counts); rates, medians and distinct counts are not.
    additive: bool = True
    # Withheld together with the dataset's people count (it would reveal it).
    reveals_people: bool = False
    # What one unit of the value is, in words (« pass remis »): a programme target compares
    # with an indicator only when it promises the same unit of the same thing.
    counts: str = ""
    # Also published per 1,000 inhabitants of the commune (counts of people or places that
    # residents of any commune could use; never rates or medians).
    per_inhabitants: bool = False

    def compute(self, rows: pd.DataFrame) -> float:
        """The indicator for all ``rows`` taken as one group."""
        return float(self.grouped(Groups(rows)).iloc[0])

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
    Dataset("ateliers", "participants", people="participants"),
    Dataset("pass", "pass_distribues", people="carnets_distribues",
            columns=("numero_carnet", "date_utilisation", "valeur_euros", "lieu_utilisation"),
            derived=lambda rows, _: {"delai_jours": delay_days(rows)}),
    Dataset("collecte", "telephones_collectes"),
    # A venue accepts the pass when it says so or when a pass file names it (``lieux_pass``).
    Dataset("lieux", "lieux_recenses", also_reads=(("pass", "lieu_utilisation"),),
            derived=lambda rows, other: {"accepte_pass": accepts_pass(
                rows, other[("pass", "lieu_utilisation")])}),
)}


# --- groups ----------------------------------------------------------------------------------

class Groups:
    """The rows of one dataset split by a column (commune, topic…), or all in one group when no
    column is given (a row without a value in that column is in no group). Each method gives
    one value per group, as a Series indexed by the group values; a group with no matching row
    counts 0 (a ratio or median of nothing is NaN).

    Groups are integer codes computed once and rows are selected with boolean masks, so an
    indicator for 1,000 communes is a few numpy passes over the columns, not 1,000 sub-tables.
    """

    def __init__(self, rows: pd.DataFrame, key: str | None = None) -> None:
        self.rows = rows
        if key:
            codes, uniques = pd.factorize(rows[key], sort=False)
            if (codes < 0).any():  # no value (a venue whose commune is unknown): in no group
                self.rows, codes = rows[codes >= 0], codes[codes >= 0]
            self.codes, self.index = codes, pd.Index(uniques)
        else:
            self.codes, self.index = np.zeros(len(rows), dtype=np.intp), pd.Index([""])

    def _series(self, values: np.ndarray) -> pd.Series:
        return pd.Series(values.astype(float), index=self.index)

    def _codes(self, mask: np.ndarray | None) -> np.ndarray:
        return self.codes if mask is None else self.codes[mask]

    def col(self, name: str) -> np.ndarray:
        return pd.to_numeric(self.rows[name], errors="coerce").to_numpy(dtype=float)

    def equals(self, column: str, value: str) -> np.ndarray:
        return (self.rows[column] == value).to_numpy(dtype=bool, na_value=False)

    def count(self, mask: np.ndarray | None = None) -> pd.Series:
        return self._series(np.bincount(self._codes(mask), minlength=len(self.index)))

    def sum(self, values: str | np.ndarray, mask: np.ndarray | None = None) -> pd.Series:
        values = self.col(values) if isinstance(values, str) else values
        values = np.nan_to_num(values if mask is None else values[mask])
        return self._series(np.bincount(self._codes(mask), weights=values,
                                        minlength=len(self.index)))

    def nunique(self, column: str, mask: np.ndarray | None = None) -> pd.Series:
        values = self.rows[column] if mask is None else self.rows[column][mask]
        value_codes, _ = pd.factorize(values)  # missing values get -1
        codes = self._codes(mask)[value_codes >= 0]
        pairs = np.unique(codes.astype(np.int64) * (len(value_codes) + 1)
                          + value_codes[value_codes >= 0])
        return self._series(np.bincount(pairs // (len(value_codes) + 1),
                                        minlength=len(self.index)))

    def median(self, values: np.ndarray, mask: np.ndarray) -> pd.Series:
        medians = pd.Series(values[mask]).groupby(self.codes[mask]).median()
        return self._series(medians.reindex(range(len(self.index))).to_numpy())

    @cached_property
    def held(self) -> np.ndarray:
        return self.equals(STATUS, HELD)

    @cached_property
    def used(self) -> np.ndarray:
        return self.rows["date_utilisation"].notna().to_numpy()

    @cached_property
    def sorted(self) -> np.ndarray:
        rows = self.rows
        return (rows["telephones_reconditionnes"].notna()
                | rows["telephones_recycles"].notna()).to_numpy()


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator != 0)


def delay_days(rows: pd.DataFrame) -> pd.Series:
    """Days from hand-out to redemption (``prepare`` adds it once as ``delai_jours``)."""
    return (pd.to_datetime(rows["date_utilisation"], format="ISO8601", errors="coerce")
            - pd.to_datetime(rows["date_distribution"], format="ISO8601", errors="coerce")).dt.days


def _delay_days(g: Groups) -> pd.Series:
    days = g.rows["delai_jours"] if "delai_jours" in g.rows else delay_days(g.rows)
    return g.median(days.to_numpy(dtype=float, na_value=np.nan), g.used)


def _filled(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows:
        return pd.Series(False, index=rows.index)
    return rows[column].fillna("").astype(str).str.strip().ne("")


# Words of the « autres_formations_labels » column that say a venue accepts the pass (the
# APTIC cheque is the pass numérique's national name).
PASS_WORDS = ("pass numerique", "pass numérique", "aptic")


def accepts_pass(venues: pd.DataFrame, redeemed_at: set[str]) -> pd.Series:
    """Venues that accept the pass: they say so in their labels, or a pass file names them as
    the venue where a pass was used."""
    if "autres_formations_labels" in venues:
        said = venues["autres_formations_labels"].fillna("").astype(str).str.lower().str.contains(
            "|".join(PASS_WORDS), regex=True)
    else:
        said = pd.Series(False, index=venues.index)
    return venues["id"].isin(redeemed_at) | said


def _labelled(g: Groups) -> pd.Series:
    flags = _filled(g.rows, "dispositif_programmes_nationaux") | _filled(g.rows, "formations_labels")
    return g.sum(flags.to_numpy(dtype=float))


CATALOGUE: tuple[Indicator, ...] = (
    Indicator("seances_realisees", "Ateliers réalisés",
              "Séances d'atelier qui ont eu lieu.", "nombre",
              "nombre de séances dont le statut est « Réalisée »", "ateliers",
              lambda g: g.count(g.held), ("annee", "commune", "thematique", "public"),
              counts="séances d'atelier réalisées"),
    Indicator("seances_annulees", "Ateliers annulés",
              "Séances prévues puis annulées ; elles ne comptent dans aucun autre indicateur.",
              "nombre", "nombre de séances dont le statut est « Annulée »", "ateliers",
              lambda g: g.count(g.equals(STATUS, CANCELLED)),
              counts="séances d'atelier annulées"),
    Indicator("participants", "Participations",
              "Personnes présentes aux ateliers réalisés ; une personne venue à deux séances "
              "compte deux fois.", "nombre",
              "somme des présents sur les séances réalisées", "ateliers",
              lambda g: g.sum("presents", g.held), ("annee", "commune", "thematique", "public"),
              reveals_people=True,
              counts="participations à des ateliers réalisés", per_inhabitants=True),
    Indicator("thematiques_distinctes", "Thématiques abordées",
              "Nombre de thématiques différentes parmi les ateliers réalisés.", "nombre",
              "nombre de thématiques distinctes des séances réalisées", "ateliers",
              lambda g: g.nunique("thematique", g.held), additive=False,
              counts="thématiques d'atelier distinctes"),
    Indicator("heures_apprenants", "Heures d'apprentissage",
              "Temps passé en atelier par l'ensemble des participants.", "heures",
              "somme, sur les séances réalisées, des présents multipliés par la durée en heures",
              "ateliers",
              lambda g: g.sum(g.col("presents") * g.col("duree_minutes"), g.held) / 60,
              reveals_people=True,
              counts="heures passées en atelier par les participants"),
    Indicator("taux_remplissage", "Taux de remplissage",
              "Part des places ouvertes qui ont trouvé un inscrit.", "taux",
              "inscrits divisés par les places, sur les séances réalisées", "ateliers",
              lambda g: _ratio(g.sum("inscrits", g.held), g.sum("places", g.held)),
              decimals=3, additive=False, reveals_people=True,
              counts="part des places d'atelier prises"),
    Indicator("taux_presence", "Taux de présence",
              "Part des inscrits qui sont venus.", "taux",
              "présents divisés par les inscrits, sur les séances réalisées", "ateliers",
              lambda g: _ratio(g.sum("presents", g.held), g.sum("inscrits", g.held)),
              decimals=3, additive=False, reveals_people=True,
              counts="part des inscrits venus en atelier"),
    # --- vouchers ----------------------------------------------------------------------------
    Indicator("carnets_distribues", "Carnets remis",
              "Carnets (chéquiers) de pass remis à des habitants ; un carnet correspond à un "
              "bénéficiaire.", "nombre",
              "nombre de numéros de carnet distincts parmi les pass remis dans l'année", "pass",
              lambda g: g.nunique("numero_carnet"), reveals_people=True,
              counts="carnets de pass remis (un par bénéficiaire)"),
    Indicator("pass_distribues", "Pass remis",
              "Pass numériques remis à des habitants par les prescripteurs.", "nombre",
              "nombre de pass dont la date de remise tombe dans l'année", "pass",
              lambda g: g.count(), reveals_people=True,
              counts="pass numériques remis", per_inhabitants=True),
    Indicator("pass_utilises", "Pass utilisés",
              "Pass remis dans l'année et utilisés dans un lieu agréé (à la date de publication, "
              "quelle que soit l'année d'utilisation).", "nombre",
              "nombre de pass remis dans l'année qui ont une date d'utilisation", "pass",
              lambda g: g.count(g.used), reveals_people=True,
              counts="pass numériques utilisés"),
    Indicator("taux_utilisation", "Taux d'utilisation des pass",
              "Part des pass remis qui ont été utilisés.", "taux",
              "pass utilisés divisés par pass remis (année de remise)", "pass",
              lambda g: _ratio(g.count(g.used), g.count()), decimals=3, additive=False,
              reveals_people=True,
              counts="part des pass remis utilisés"),
    Indicator("valeur_utilisee_euros", "Valeur des pass utilisés",
              "Montant des séances de médiation payées avec des pass.", "euros",
              "somme des valeurs faciales des pass utilisés", "pass",
              lambda g: g.sum("valeur_euros", g.used), reveals_people=True,
              counts="euros de pass utilisés"),
    Indicator("delai_median_jours", "Délai médian d'utilisation (jours)",
              "Temps qui sépare, pour la moitié des pass utilisés, la remise de l'utilisation.",
              "jours", "médiane du nombre de jours entre la date de remise et la date "
              "d'utilisation, sur les pass utilisés", "pass", _delay_days, decimals=1,
              additive=False, reveals_people=True,
              counts="jours entre remise et utilisation d'un pass (médiane)"),
    Indicator("lieux_utilisation", "Lieux où des pass ont été utilisés",
              "Lieux agréés différents où des pass remis dans l'année ont été utilisés.",
              "nombre", "nombre de lieux d'utilisation distincts", "pass",
              lambda g: g.nunique("lieu_utilisation", g.used), additive=False,
              reveals_people=True,
              counts="lieux où des pass ont été utilisés"),
    # --- phone collection --------------------------------------------------------------------
    Indicator("points_collecte_actifs", "Points de collecte actifs",
              "Collecteurs relevés au moins une fois dans l'année.", "nombre",
              "nombre de points de collecte distincts ayant au moins une relève", "collecte",
              lambda g: g.nunique("point_collecte"), additive=False,
              counts="points de collecte relevés"),
    Indicator("telephones_collectes", "Téléphones collectés",
              "Téléphones usagés trouvés dans les collecteurs.", "nombre",
              "somme des téléphones collectés lors des relèves de l'année", "collecte",
              lambda g: g.sum("telephones_collectes"),
              counts="téléphones collectés"),
    Indicator("telephones_reconditionnes", "Téléphones reconditionnés",
              "Téléphones effacés, testés et remis en vente au profit d'Emmaüs International.",
              "nombre", "somme des téléphones reconditionnés d'après le fichier de tri du "
              "reconditionneur, rattachés à l'année de la relève", "collecte",
              lambda g: g.sum("telephones_reconditionnes"),
              counts="téléphones reconditionnés"),
    Indicator("telephones_recycles", "Téléphones recyclés",
              "Téléphones hors d'usage envoyés au recyclage.", "nombre",
              "somme des téléphones recyclés d'après le fichier de tri, année de la relève",
              "collecte", lambda g: g.sum("telephones_recycles"),
              counts="téléphones recyclés"),
    Indicator("taux_reemploi", "Taux de réemploi",
              "Part des téléphones triés qui ont été reconditionnés plutôt que recyclés.", "taux",
              "reconditionnés divisés par (reconditionnés + recyclés), sur les relèves triées",
              "collecte",
              lambda g: _ratio(g.sum("telephones_reconditionnes", g.sorted),
                               g.sum("telephones_reconditionnes", g.sorted)
                               + g.sum("telephones_recycles", g.sorted)),
              decimals=3, additive=False,
              counts="part des téléphones triés reconditionnés"),
    # --- venues ------------------------------------------------------------------------------
    Indicator("lieux_recenses", "Lieux recensés",
              "Lieux de médiation numérique de l'annuaire (état au jour de la publication).",
              "nombre", "nombre de lieux de l'annuaire, selon le code INSEE de leur adresse",
              "lieux", lambda g: g.count(), ("commune", "service", "label"),
              counts="lieux de médiation numérique de l'annuaire", per_inhabitants=True),
    Indicator("lieux_labellises", "Lieux labellisés",
              "Lieux qui déclarent au moins un label ou dispositif national (France Services, "
              "Conseillers numériques, Aidants Connect…).", "nombre",
              "nombre de lieux dont le champ « dispositif_programmes_nationaux » ou "
              "« formations_labels » est rempli", "lieux",
              _labelled,
              ("commune", "label"),
              counts="lieux de l'annuaire portant un label ou dispositif national"),
    Indicator("lieux_pass", "Lieux engagés dans le pass numérique",
              "Lieux de l'annuaire qui acceptent le pass numérique : ils le déclarent dans leurs "
              "labels (« Pass numérique », « APTIC »), ou un fichier de pass les nomme comme lieu "
              "où un pass a été utilisé (état au jour de la publication).", "nombre",
              "nombre de lieux de l'annuaire qui déclarent le pass ou dont l'identifiant figure "
              "comme lieu d'utilisation d'au moins un pass", "lieux",
              lambda g: g.sum(g.rows["accepte_pass"].to_numpy(dtype=float)), ("commune",),
              counts="lieux acceptant ou encaissant le pass numérique"),
    Indicator("communes_avec_lieu", "Communes avec au moins un lieu",
              "Communes du territoire où l'annuaire recense au moins un lieu.", "nombre",
              "nombre de codes INSEE distincts parmi les lieux de l'annuaire", "lieux",
              lambda g: g.nunique("code_insee"), ("commune",), additive=False,
              counts="communes ayant au moins un lieu"),
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
