"""Programme targets say exactly what they measure, and populations give honest rates: the
territory file's targets against the catalogue, misconfigured targets and populations."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import REFERENCE_RUN

from pages.results_view import add_texts
from pipeline.config import ConfigError, load_territory
from transforms.catalogue import BY_ID
from transforms.results import Target, compute_results, load_results_config
from transforms.results.config import target_problem
from transforms.results.rates import per_inhabitants, territory_population

REPO = Path(__file__).resolve().parent.parent


def test_every_target_of_the_territory_is_measured_by_what_it_promises():
    _, targets = load_results_config(REPO / "territory.toml")
    assert targets
    for target in targets:
        assert target_problem(target) is None, target.id
        if target.indicator:
            ind = BY_ID[target.indicator]
            assert (ind.unit, ind.counts) == (target.unit, target.counts), target.id
        else:
            assert target.measurable_with, target.id


def test_the_pass_programme_targets_are_not_measured_by_workshops_or_labels():
    _, targets = load_results_config(REPO / "territory.toml")
    by_id = {t.id: t for t in targets}
    assert by_id["mgp-heures"].indicator is None  # no duration in the pass files
    assert "durée" in by_id["mgp-heures"].measurable_with
    assert by_id["mgp-lieux"].indicator == "lieux_pass"
    assert BY_ID["lieux_pass"].dataset == "lieux" and "pass" in BY_ID["lieux_pass"].counts


@pytest.mark.parametrize(("target", "words"), [
    (Target("t", "P", "heures_apprenants", 100, "2026-01-01", "2026-12-31", unit="heures",
            counts="heures de formation payées avec des pass numériques"),
     "compte des « heures passées en atelier"),
    (Target("t", "P", "pass_distribues", 100, "2026-01-01", "2026-12-31", unit="euros",
            counts="pass numériques remis"), "(nombre)"),
    (Target("t", "P", "pass_inventes", 100, "2026-01-01", "2026-12-31", unit="nombre",
            counts="pass"), "n'existe pas"),
    (Target("t", "P", None, 100, "2026-01-01", "2026-12-31", unit="heures", counts="heures"),
     "measurable_with"),
])
def test_a_target_counting_something_else_is_reported_and_not_measured(target, words, caplog):
    problem = target_problem(target)
    assert problem is not None and words in problem
    results = add_texts(compute_results({}, {"91477": "Palaiseau"}, REFERENCE_RUN,
                                        targets=[target]))
    row = results["targets"][0]
    assert row["realise"] is None and row["progression"] is None
    assert row["realise_texte"] == "non renseigné"


def test_a_misconfigured_target_is_logged_when_the_configuration_is_read(tmp_path, caplog):
    text = (REPO / "territory.toml").read_text(encoding="utf-8").replace(
        'indicator = "lieux_pass"', 'indicator = "lieux_labellises"')
    path = tmp_path / "territory.toml"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        _, targets = load_results_config(path)
    assert any("mgp-lieux" in r.getMessage() and "lieux_labellises" in r.getMessage()
               for r in caplog.records)
    assert target_problem(next(t for t in targets if t.id == "mgp-lieux"))


def test_a_year_without_data_is_not_reported_rather_than_zero():
    target = Target("t", "P", "pass_distribues", 10, "2019-01-01", "2019-12-31", unit="nombre",
                    counts="pass numériques remis")
    row = add_texts(compute_results({}, {"91477": "Palaiseau"}, REFERENCE_RUN,
                                    targets=[target]))["targets"][0]
    assert row["realise"] is None and row["realise_texte"] == "non renseigné"


@pytest.mark.parametrize(("population", "message"), [
    (-5, "not a whole number"), ("35590", "not a whole number"), (True, "not a whole number"),
    (35590.5, "not a whole number")])
def test_a_bad_population_stops_the_configuration(tmp_path, population, message):
    text = (REPO / "territory.toml").read_text(encoding="utf-8").replace(
        "population = 35590", f"population = {population!r}".replace("'", '"').replace(
            "True", "true"))
    path = tmp_path / "territory.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_territory(path)


def test_populations_need_their_vintage(tmp_path):
    text = (REPO / "territory.toml").read_text(encoding="utf-8").replace(
        "population_year = 2018\n", "")
    path = tmp_path / "territory.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="population_year"):
        load_territory(path)


def test_rates_are_never_computed_on_missing_or_zero_populations():
    assert per_inhabitants(12, 35590) == 0.34
    assert per_inhabitants(12, 0) is None and per_inhabitants(12, None) is None
    assert per_inhabitants(None, 35590) is None  # a withheld count
    assert territory_population({"a": 10, "b": 20}, {"a": "A", "b": "B"}) == 30
    # One commune without its population: no territory rate rather than an inflated one.
    assert territory_population({"a": 10}, {"a": "A", "b": "B"}) is None


def test_the_shipped_territory_gives_every_commune_its_population():
    territory = load_territory(REPO / "territory.toml")
    assert territory.population_year == 2018 and "Insee" in territory.population_source
    assert set(territory.populations) == {c.insee for c in territory.communes}
    assert territory.populations["91477"] == 35590


def test_a_commune_without_population_is_named_at_build_and_its_rates_not_reported(
        loaded_samples, tmp_path, monkeypatch, caplog):
    """A zero (or missing) population is not a typo to stop on: the build says which commune,
    and its rates are « non renseigné », never a division by zero."""
    from pages.results_view import add_texts
    from transforms.results import build_results

    text = (REPO / "territory.toml").read_text(encoding="utf-8").replace(
        "population = 35590", "population = 0")
    path = tmp_path / "territory.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(path))
    with caplog.at_level(logging.WARNING):
        results = add_texts(build_results(load_territory(path), REFERENCE_RUN))
    assert any("Palaiseau" in r.getMessage() and "Population inconnue" in r.getMessage()
               for r in caplog.records)
    table = next(t for t in results["by_year"][2026]["sections"] if t["dataset"] == "ateliers")
    palaiseau = next(r for r in table["rows"] if r["commune"] == "91477")
    assert palaiseau["per_1000"] == {"participants": None}
    assert palaiseau["display_per_1000"] == {"participants": "non renseigné"}
    assert table["total"]["per_1000"] == {"participants": None}  # no partial territory rate
