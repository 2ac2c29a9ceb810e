"""What a publication changes and when it waits for a steward (publish.changes), on hand-made
figures, ledger files and file lists; territory.toml's [publication] checks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from pipeline.config import ConfigError, PublicationRules, load_territory
from publish import changes
from publish.changes import (ChangeSummary, DatasetRows, FigureMove, ReceivedFile,
                             figure_key, figure_moves, find_anomalies, key_figures)

COMMUNES = {"91477": "Palaiseau", "91377": "Massy", "91471": "Orsay"}
RULES = PublicationRules(max_figure_drop=0.5, min_previous_value=10, min_file_share=0.25)


def moved(before: float | None, after: float | None, commune: str = "91477") -> FigureMove:
    return FigureMove("ateliers", 2026, commune, COMMUNES[commune], "participants", before, after)


def received(name: str, rows: int, when: str, partner: str = "orange-ateliers",
             status: str = "accepte", dataset: str = "ateliers", loaded: int | None = None
             ) -> ReceivedFile:
    return ReceivedFile(partner, f"sha-{name}", dataset, name, f"2026-03-{when}+00:00", status,
                        rows, rows if loaded is None else loaded)


def figure_anomalies(move: FigureMove, rules: PublicationRules = RULES) -> list:
    return find_anomalies([move], [], [], rules)


# --- Figures -------------------------------------------------------------------------------

def test_key_figures_are_the_published_commune_values_without_withheld_ones():
    results = {"by_year": {2026: {"sections": [{"dataset": "ateliers", "rows": [
        {"commune": "91477", "published": {"participants": 120.0, "seances_realisees": 9.0}},
        {"commune": "91377", "published": {"participants": None, "seances_realisees": 2.0}},
    ], "total": {"commune": "", "published": {"participants": 999.0}}}]}}}
    assert key_figures(results) == {
        "ateliers|2026|91477|participants": 120.0,
        "ateliers|2026|91477|seances_realisees": 9.0,
        "ateliers|2026|91377|seances_realisees": 2.0}


def test_figure_moves_list_changed_new_and_gone_figures_only():
    before = {figure_key("ateliers", 2026, "91477", "participants"): 100.0,
              figure_key("ateliers", 2026, "91377", "participants"): 40.0,
              figure_key("pass", 2026, "91477", "pass_utilises"): 7.0}
    after = {figure_key("ateliers", 2026, "91477", "participants"): 30.0,
             figure_key("ateliers", 2026, "91377", "participants"): 40.0,
             figure_key("ateliers", 2026, "91471", "participants"): 12.0}
    found = figure_moves(before, after, COMMUNES)
    assert [(m.dataset, m.commune_name, m.before, m.after) for m in found] == [
        ("ateliers", "Orsay", None, 12.0), ("ateliers", "Palaiseau", 100.0, 30.0),
        ("pass", "Palaiseau", 7.0, None)]
    assert found[1].change == pytest.approx(-0.7)
    assert found[0].change is None and found[2].change is None


# --- Figure anomalies ----------------------------------------------------------------------

@pytest.mark.parametrize(("after", "waits"), [
    (50.0, False),   # exactly -50 %: the limit itself is not « more than »
    (49.0, True),    # -51 %
    (50.5, False),   # -49.5 %
    (0.0, True),     # -100 %
    (300.0, False),  # rises never wait by default
])
def test_a_drop_waits_only_beyond_the_threshold(after, waits):
    assert bool(figure_anomalies(moved(100.0, after))) is waits


def test_rises_wait_only_when_a_rise_threshold_is_set():
    rules = PublicationRules(max_figure_rise=2.0, min_previous_value=10)
    assert figure_anomalies(moved(100.0, 300.0), rules) == []  # exactly +200 %
    assert len(figure_anomalies(moved(100.0, 301.0), rules)) == 1


def test_a_commune_without_a_live_figure_never_waits():
    assert figure_anomalies(moved(None, 500.0)) == []


def test_a_zero_live_value_has_no_relative_change_and_never_waits():
    rules = PublicationRules(min_previous_value=0, max_figure_rise=0.1)
    assert moved(0.0, 80.0).change is None
    assert figure_anomalies(moved(0.0, 80.0), rules) == []


def test_withheld_values_are_ignored_either_way():
    # A withheld (small-count) value is absent from the key figures: None on one side.
    assert figure_anomalies(moved(100.0, None)) == []
    assert figure_anomalies(moved(None, 1.0)) == []


def test_small_live_values_are_not_judged():
    assert figure_anomalies(moved(9.0, 1.0)) == []
    assert len(figure_anomalies(moved(10.0, 1.0))) == 1


def test_a_figure_anomaly_names_the_partners_that_may_report_for_the_commune():
    new = [received("a.csv", 30, "02T10:00:00", partner="orange-ateliers"),
           received("b.csv", 30, "02T11:00:00", partner="ville-massy"),
           received("c.csv", 3, "02T12:00:00", partner="ville-palaiseau", status="rejete")]
    scopes = {"orange-ateliers": None, "ville-massy": {"91377"}, "ville-palaiseau": {"91477"}}
    (anomaly,) = find_anomalies([moved(100.0, 20.0)], new, new, RULES, scopes)
    assert anomaly.kind == "chiffre"
    assert anomaly.partners == ("orange-ateliers",)  # Massy's file cannot touch Palaiseau
    assert "Palaiseau" in anomaly.message and "100" in anomaly.message
    assert "passe de 100 à 20 (-80,0\u202f%)" in anomaly.message


# --- Smaller files -------------------------------------------------------------------------

def test_a_file_far_smaller_than_the_partners_previous_one_waits():
    old = received("mars.csv", 100, "01T10:00:00")
    rejected = received("avril-ko.csv", 500, "02T10:00:00", status="rejete")
    other_dataset = received("pass.csv", 400, "02T11:00:00", dataset="pass")
    other_partner = received("massy.csv", 1000, "02T12:00:00", partner="ville-massy")
    at_limit = received("avril.csv", 25, "03T10:00:00")      # exactly a quarter: fine
    smaller = received("mai.csv", 6, "04T10:00:00")          # 24 % of the previous 25
    ledger = [old, rejected, other_dataset, other_partner, at_limit, smaller]
    assert find_anomalies([], [at_limit], ledger, RULES) == []
    (anomaly,) = find_anomalies([], [smaller], ledger, RULES)
    assert anomaly.kind == "fichier" and anomaly.partners == ("orange-ateliers",)
    assert "« mai.csv »" in anomaly.message and "« avril.csv »" in anomaly.message


def test_a_first_file_a_rejected_one_or_a_withdrawal_is_never_too_small():
    first = received("premier.csv", 1, "01T10:00:00")
    big = received("gros.csv", 100, "01T09:00:00", partner="ville-massy")
    rejected = received("ko.csv", 1, "02T10:00:00", partner="ville-massy", status="rejete")
    withdrawal = received("retrait.csv", 1, "03T10:00:00", partner="ville-massy",
                          status="retrait_enregistre")
    ledger = [first, big, rejected, withdrawal]
    assert find_anomalies([], [first, rejected, withdrawal], ledger, RULES) == []


# --- Rows, pages, text ---------------------------------------------------------------------

def test_rows_by_dataset_counts_added_superseded_withdrawn_and_rejected():
    new = [received("a.csv", 10, "01T10:00:00"), received("b.csv", 4, "01T11:00:00",
                                                          status="rejete", loaded=0),
           received("r.csv", 2, "01T12:00:00", status="retrait_enregistre", loaded=2),
           received("l.csv", 7, "01T13:00:00", partner="agglo-lieux", dataset="lieux")]
    assert changes.rows_by_dataset(new, {"ateliers": 3}) == {
        "ateliers": DatasetRows(added=10, superseded=3, withdrawn=2, rejected=4),
        "lieux": DatasetRows(added=7, superseded=0, withdrawn=0, rejected=0)}


def test_pages_added_and_removed_compare_the_two_file_lists():
    before = ["index.html", "lieux/a/index.html", "lieux/b/index.html", "style.css"]
    after = ["index.html", "lieux/a/index.html", "lieux/c/index.html", "plan.html", "app.js"]
    assert changes.page_changes(before, after) == (["/lieux/c/", "/plan.html"], ["/lieux/b/"])
    assert changes.files_since([received("a.csv", 1, "01T10:00:00")], {"orange-ateliers:sha-a.csv"}) == []


def summary() -> ChangeSummary:
    files = [received("mai.csv", 6, "04T10:00:00"),
             received("ko.csv", 3, "04T11:00:00", status="rejete", loaded=0)]
    move = moved(100.0, 20.0)
    return ChangeSummary(
        "20260405T050000", "20260404T050000", files,
        {"ateliers": DatasetRows(added=6, superseded=2, withdrawn=0, rejected=3)},
        ["/lieux/c/"], ["/lieux/b/", "/lieux/d/"],
        [move, moved(12.0, 14.0, "91377")],
        find_anomalies([move], files, files, RULES))


def test_the_summary_text_says_everything_in_french():
    text = changes.summary_text(summary())
    assert text.startswith("Publication 20260405T050000, comparée à la version en ligne "
                           "20260404T050000.")
    assert "À vérifier avant la mise en ligne :\n- Palaiseau : Participations" in text
    assert "(partenaire : orange-ateliers)" in text
    assert "Fichiers reçus depuis la version en ligne : 2" in text
    assert "- orange-ateliers : « ko.csv » (Ateliers numériques, refusé, 3 lignes)" in text
    assert "- Ateliers numériques : 6 ajoutées, 2 remplacées, 0 retirées, 3 refusées" in text
    assert "Pages : 1 ajoutées, 2 retirées\n- ajoutée : /lieux/c/\n- retirée : /lieux/b/" in text
    # Largest move first.
    assert text.index("Palaiseau, Ateliers numériques 2026") < text.index("Massy, Ateliers")
    assert "Massy, Ateliers numériques 2026, Participations : 12 → 14 (+16,7" in text


def test_the_summary_text_of_a_first_publication_and_long_lists():
    files = [received(f"f{i}.csv", 1, f"0{1 + i % 9}T10:00:00") for i in range(25)]
    text = changes.summary_text(ChangeSummary("20260101T050000", None, files))
    assert "première publication" in text and "- … et 5 autres" in text
    assert "Chiffres clés qui changent, par commune :\n- aucun" in text
    assert "À vérifier" not in text


# --- Storage and history -------------------------------------------------------------------

def test_records_history_and_statuses(tmp_path: Path):
    folder = tmp_path / "publications"
    when = datetime(2026, 4, 5, 5, 0)
    figures = {figure_key("ateliers", 2026, "91477", "participants"): 20.0}
    for day in range(1, 5):
        done = summary()
        done.build_id = f"2026040{day}T050000"
        changes.write_publication(folder, done, figures, ["p:sha"], changes.PENDING, when)
    assert changes.read_figures(folder, "20260402T050000") == (figures, {"p:sha"})
    changes.set_status(folder, "20260404T050000", changes.SET_ASIDE, "« Écarter » par marie")
    changes.prune_history(folder, 2, protect={"20260401T050000"})
    assert changes.read_figures(folder, "20260402T050000") is None
    assert (folder / "20260404T050000.txt").read_text(encoding="utf-8").startswith("Publication")

    class Paths:
        site_root = tmp_path

    listed = changes.recent_publications(5, Paths())
    assert [p["build_id"] for p in listed] == ["20260404T050000", "20260403T050000",
                                               "20260401T050000"]
    assert listed[0]["status_label"] == "écartée" and listed[0]["decision"] == "« Écarter » par marie"
    assert listed[0]["anomalies"][0]["kind"] == "chiffre"
    assert changes.recent_publications(1, Paths())[0]["build_id"] == "20260404T050000"


def test_decision_text():
    assert changes.decision_text(None) is None
    assert changes.decision_text({"options": ["Publier"], "par": "admin",
                                  "le": "2026-04-05T08:30:12+00:00", "motif": "vérifié"}) == (
        "« Publier » par admin le 2026-04-05 à 08:30, motif : vérifié")


# --- territory.toml [publication] ----------------------------------------------------------

def write_territory(tmp_path: Path, publication: str) -> Path:
    path = tmp_path / "territory.toml"
    path.write_text('[territory]\nname = "T"\n\n[publication]\n' + publication, encoding="utf-8")
    return path


def test_publication_rules_defaults_and_values(tmp_path: Path):
    assert load_territory(write_territory(tmp_path, "")).publication == PublicationRules()
    rules = load_territory(write_territory(
        tmp_path, "max_figure_drop = 0.3\nmax_figure_rise = 4\nmin_previous_value = 0\n"
                  "min_file_share = 0.1\nhistory = 5\n")).publication
    assert rules == PublicationRules(0.3, 4.0, 0.0, 0.1, 5)
    assert load_territory().publication.max_figure_drop == 0.5  # the shipped file


@pytest.mark.parametrize(("line", "key"), [
    ("max_figure_drop = 1.5", "max_figure_drop"), ("max_figure_drop = 0", "max_figure_drop"),
    ("min_file_share = \"0.5\"", "min_file_share"), ("max_figure_rise = -1", "max_figure_rise"),
    ("history = 0", "history"), ("min_previous_value = -2", "min_previous_value"),
    ("max_drop = 0.5", "unknown key 'max_drop'"),
])
def test_publication_rules_are_checked(tmp_path: Path, line: str, key: str):
    with pytest.raises(ConfigError, match=key):
        load_territory(write_territory(tmp_path, line + "\n"))
