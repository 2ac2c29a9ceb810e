"""The indicator catalogue: complete, and the one source of labels, dictionary and rounding."""

from __future__ import annotations

from pages import opendata
from pipeline.contracts.datasets import CONTRACTS
from transforms.catalogue import CATALOGUE, DATASETS, indicator, round_value


def test_catalogue_is_complete():
    ids = [i.id for i in CATALOGUE]
    assert len(ids) == len(set(ids))
    for required in ("seances_realisees", "seances_annulees", "participants",
                     "thematiques_distinctes", "heures_apprenants", "taux_remplissage",
                     "taux_presence", "carnets_distribues", "pass_distribues", "pass_utilises",
                     "taux_utilisation", "valeur_utilisee_euros", "delai_median_jours",
                     "lieux_utilisation", "points_collecte_actifs", "telephones_collectes",
                     "telephones_reconditionnes", "telephones_recycles", "taux_reemploi",
                     "lieux_recenses", "lieux_labellises", "communes_avec_lieu"):
        assert required in ids
    for ind in CATALOGUE:
        assert ind.label and ind.definition and ind.formula and ind.breakdowns
        assert ind.dataset in DATASETS and ind.unit in ("nombre", "heures", "taux", "euros", "jours")


def test_per_dataset_facts_name_the_catalogue_and_the_contracts():
    """What results and pages derive from (headline and people indicators, read columns,
    breakdowns, completing datasets) names indicators of the dataset and its own columns."""
    for dataset in DATASETS.values():
        for name in filter(None, (dataset.headline, dataset.people)):
            assert indicator(name).dataset == dataset.id, name
        assert set(dataset.read_columns or ()) <= set(dataset.contract.column_names)
    for contract in CONTRACTS.values():
        commune = contract.commune_column
        assert not commune or contract.column(commune).type == "insee", contract.dataset
        assert contract.completes is None or contract.completes in DATASETS
        for breakdown in contract.breakdowns:
            contract.column(breakdown.column)
            assert breakdown.label and breakdown.indicators
            assert {indicator(i).dataset for i in breakdown.indicators} == {contract.dataset}
        ids = [f"{contract.dataset}-{b.id}" for b in contract.breakdowns]
        assert len(ids) == len(set(ids)), ids


def test_data_dictionary_comes_from_the_catalogue():
    for ind in CATALOGUE:
        field = opendata.indicator_field(ind)
        assert field["name"] == ind.id and field["title"] == ind.label
        assert ind.definition in field["description"] and ind.formula in field["description"]


def test_published_values_are_rounded_half_up_once():
    assert round_value(indicator("heures_apprenants"), 32.5) == 33
    assert round_value(indicator("taux_presence"), 25 / 32) == 0.781
    assert round_value(indicator("delai_median_jours"), 20.25) == 20.3
    assert round_value(indicator("participants"), float("nan")) is None
