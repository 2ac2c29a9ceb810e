"""Corrections, withdrawals and the rules that span files of different partners or times
(issue 13), through the inbox like partners use it: a pass redeemed again, sorting received
before its pickup, withdrawal files (pipeline/ingest/withdrawals.py), and a property: whatever
sequence of files arrives, the warehouse's current rows are the last accepted version of each key,
minus the withdrawn ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import examples
from test_ingest_corpus import CORPUS, WORKSHOP_HEADER, WORKSHOP_ROW, drop

from pipeline.ingest.flow import process_files
from pipeline.load import ledger, warehouse

PASS_HEADER = ("numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
               "date_utilisation;lieu_utilisation")
PICKUP_HEADER = "identifiant_collecte;date;commune;point_collecte;telephones_collectes"
MOMENT = 1_767_000_000  # files get increasing modification times from here


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory.toml"))
    return data_dir


class Inbox:
    """Drops files one after the other, each received a minute after the previous one."""

    def __init__(self, data: Path) -> None:
        self.data, self.clock = data, MOMENT

    def send(self, partner: str, name: str, text: str, at: int | None = None):
        path = drop(self.data, partner, name, text.encode("utf-8"))
        self.clock += 60
        moment = self.clock if at is None else at
        os.utime(path, (moment, moment))
        outcome = process_files([(partner, str(path))])[0]
        report = (path.parent / f"{name}.rapport.txt").read_text(encoding="utf-8")
        return outcome, report


@pytest.fixture
def inbox(env: Path) -> Inbox:
    return Inbox(env)


def passes(*rows: str) -> str:
    return "\n".join([PASS_HEADER, *rows]) + "\n"


def a_pass(number: str, used: str = "", place: str = "", prescriber: str = "CCAS de Massy") -> str:
    return f"{number};C-1;10;05/01/2026;{prescriber};91377;{used};{place}"


def current(dataset: str, key: str) -> dict:
    rows = warehouse.current_rows(dataset)
    return {(r["partner"], r[key]): r for r in rows.to_dict("records")}


# --- 1. a pass redeemed again by the same partner -------------------------------------------

def test_a_pass_redeemed_again_by_the_same_partner_is_refused_then_corrected_by_withdrawal(
        inbox: Inbox):
    first, _ = inbox.send("ccas-massy", "pass_janvier.csv",
                          passes(a_pass("PN-1", "10/01/2026", "Médiathèque")))
    assert first.status.startswith("accepte")
    again, report = inbox.send("ccas-massy", "pass_fevrier.csv", passes(
        a_pass("PN-1", "20/02/2026", "Médiathèque"), a_pass("PN-2", "21/02/2026", "Mairie")))
    assert again.status == ledger.STATUS_REJECTED, report
    assert ("Ce pass a déjà été utilisé le 10/01/2026 à « Médiathèque », d'après le fichier "
            "« pass_janvier.csv »") in report
    assert "Ligne 2, colonne « numero_pass », valeur « PN-1 »" in report
    assert current("pass", "numero_pass")[("ccas-massy", "PN-1")]["date_utilisation"] == \
        "2026-01-10"
    assert ("ccas-massy", "PN-2") not in current("pass", "numero_pass")  # nothing of the file

    # The same redemption again, with another column corrected: a genuine correction.
    fixed, report = inbox.send("ccas-massy", "pass_janvier_corrige.csv", passes(
        a_pass("PN-1", "10/01/2026", "Médiathèque", prescriber="CCAS de Massy, accueil")))
    assert fixed.status.startswith("accepte"), report
    row = current("pass", "numero_pass")[("ccas-massy", "PN-1")]
    assert row["prescripteur"] == "CCAS de Massy, accueil"

    # A mistyped redemption is undone explicitly: withdraw the pass, then send it right.
    withdrawal, report = inbox.send("ccas-massy", "retrait_pass.csv", "numero_pass\nPN-1\n")
    assert (withdrawal.status, withdrawal.rows_loaded) == (ledger.STATUS_WITHDRAWN, 1), report
    resent, report = inbox.send("ccas-massy", "pass_fevrier_bis.csv",
                                passes(a_pass("PN-1", "20/02/2026", "Médiathèque")))
    assert resent.status.startswith("accepte"), report
    assert current("pass", "numero_pass")[("ccas-massy", "PN-1")]["date_utilisation"] == \
        "2026-02-20"


def test_a_pass_redeemed_by_another_partner_is_refused_with_the_first_redemption(inbox: Inbox):
    inbox.send("ccas-massy", "pass.csv", passes(a_pass("PN-1", "10/01/2026", "Médiathèque")))
    outcome, report = inbox.send("operateur-pass", "pass.csv",
                                 passes(a_pass("PN-1", "10/01/2026", "Médiathèque")))
    assert outcome.status == ledger.STATUS_REJECTED
    assert "déjà été utilisé le 10/01/2026 à « Médiathèque »" in report


# --- 2. the sorting received before its pickup ----------------------------------------------

def test_sorting_received_before_its_pickup_is_checked_when_the_pickup_arrives(inbox: Inbox):
    sorting, report = inbox.send("reconditionneur", "tri_mars.csv",
                                 "identifiant_collecte;telephones_reconditionnes;"
                                 "telephones_recycles\nCOL-7;20;25\nCOL-8;3;4\n")
    assert sorting.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    assert "sera comparé à la relève quand elle arrivera" in report
    pickup, report = inbox.send("orange-collecte", "collecte_mars.csv", "\n".join([
        PICKUP_HEADER, "COL-7;01/03/2026;91471;Mairie d'Orsay;30",
        "COL-8;01/03/2026;91471;Mairie d'Orsay;12"]) + "\n")
    assert pickup.status == ledger.STATUS_REJECTED, report
    assert ("Le reconditionneur a déjà déclaré 45 téléphones triés (reconditionnés + recyclés) "
            "pour cette relève dans le fichier « tri_mars.csv » : plus que les 30 téléphones "
            "collectés") in report
    assert "Ligne 2, colonne « telephones_collectes », valeur « 30 »" in report
    assert "Ligne 3" not in report  # COL-8: 7 sorted out of 12
    assert warehouse.current_rows("collecte").empty

    counted, report = inbox.send("orange-collecte", "collecte_mars_recomptee.csv", "\n".join([
        PICKUP_HEADER, "COL-7;01/03/2026;91471;Mairie d'Orsay;45",
        "COL-8;01/03/2026;91471;Mairie d'Orsay;12"]) + "\n")
    assert counted.status == ledger.STATUS_ACCEPTED, report
    # A later pickup correction below the sorting is refused too: the order never matters.
    lowered, report = inbox.send("orange-collecte", "collecte_mars_v3.csv", "\n".join([
        PICKUP_HEADER, "COL-7;01/03/2026;91471;Mairie d'Orsay;44"]) + "\n")
    assert lowered.status == ledger.STATUS_REJECTED, report
    assert current("collecte", "identifiant_collecte")[
        ("orange-collecte", "COL-7")]["telephones_collectes"] == 45


# --- 3. withdrawals -------------------------------------------------------------------------

def _sessions(*ids: str) -> str:
    return "\n".join([WORKSHOP_HEADER, *(WORKSHOP_ROW.replace("S1;", f"{i};") for i in ids)]) + "\n"


def test_a_withdrawal_takes_rows_out_keeps_their_history_and_can_be_undone(inbox: Inbox):
    loaded, _ = inbox.send("ville-palaiseau", "ateliers.csv", _sessions("S1", "S2", "S3"))
    withdrawal, report = inbox.send("ville-palaiseau", "retrait_ateliers.csv",
                                    "identifiant_seance;motif\nS2;doublon\nS3;annulée\n")
    assert withdrawal.status == ledger.STATUS_WITHDRAWN, report
    assert withdrawal.rows_loaded == 2  # the DAG announces a changed warehouse
    assert "Lignes retirées (2)" in report and "« S2 »" in report
    assert sorted(warehouse.current_rows("ateliers")["identifiant_seance"]) == ["S1"]
    history = warehouse.all_rows("ateliers").set_index("identifiant_seance")
    assert (history.loc["S2", "current"], history.loc["S2", "superseded_by"]) == (
        0, withdrawal.sha256)
    entry = next(e for e in ledger.entries() if e.sha256 == withdrawal.sha256)
    assert (entry.dataset, entry.rows_total, entry.stored_path.split("/")[0]) == (
        "ateliers", 2, "archive")

    # The same bytes again change nothing; another list with the same id says so.
    again, _ = inbox.send("ville-palaiseau", "retrait_ateliers_copie.csv",
                          "identifiant_seance;motif\nS2;doublon\nS3;annulée\n")
    assert again.duplicate
    twice, report = inbox.send("ville-palaiseau", "retrait_ateliers_2.csv",
                               "identifiant_seance\nS3\n")
    assert twice.status == ledger.STATUS_WITHDRAWN_WITH_WARNINGS and twice.rows_loaded == 0
    assert "déjà été retirée par le fichier « retrait_ateliers.csv »" in report

    # Sending the row again puts it back.
    inbox.send("ville-palaiseau", "ateliers_s2.csv", _sessions("S2"))
    assert sorted(warehouse.current_rows("ateliers")["identifiant_seance"]) == ["S1", "S2"]
    assert loaded.sha256 != withdrawal.sha256


def test_an_older_file_arriving_after_a_withdrawal_does_not_bring_the_row_back(inbox: Inbox):
    inbox.send("ville-palaiseau", "ateliers_v2.csv", _sessions("S1"), at=MOMENT + 200)
    inbox.send("ville-palaiseau", "retrait_ateliers.csv", "identifiant_seance\nS1\n",
               at=MOMENT + 300)
    late, _ = inbox.send("ville-palaiseau", "ateliers_v1.csv", _sessions("S1", "S2"),
                         at=MOMENT + 100)
    assert late.status == ledger.STATUS_ACCEPTED
    assert sorted(warehouse.current_rows("ateliers")["identifiant_seance"]) == ["S2"]


def test_only_the_partners_own_rows_can_be_withdrawn(inbox: Inbox):
    inbox.send("ccas-massy", "pass.csv", passes(a_pass("PN-1")))
    inbox.send("operateur-pass", "pass.csv", passes(a_pass("PN-1", prescriber="Opérateur")))
    outcome, report = inbox.send("operateur-pass", "retrait_pass.csv", "numero_pass\nPN-1\n")
    assert outcome.rows_loaded == 1
    assert set(current("pass", "numero_pass")) == {("ccas-massy", "PN-1")}
    refused, report = inbox.send("operateur-pass", "retrait_lieux.csv", "id\nlieu-1\n")
    assert refused.status == ledger.STATUS_REJECTED
    assert "Vous ne pouvez retirer que des lignes que vous avez envoyées" in report


def test_a_withdrawal_is_all_or_nothing_with_its_ledger_row(inbox: Inbox, monkeypatch):
    inbox.send("ville-palaiseau", "ateliers.csv", _sessions("S1"))

    def full_disk(connection, entry):
        raise OSError("disque plein")

    monkeypatch.setattr(ledger, "insert", full_disk)
    path = drop(inbox.data, "ville-palaiseau", "retrait_ateliers.csv", b"identifiant_seance\nS1\n")
    with pytest.raises(Exception, match="non traité"):
        process_files([("ville-palaiseau", str(path))])[0]
    assert path.exists()  # left in the inbox for the retry
    assert list(warehouse.current_rows("ateliers")["identifiant_seance"]) == ["S1"]
    with warehouse.engine().connect() as connection:
        assert connection.execute(warehouse.withdrawals.select()).first() is None


def test_a_steward_withdraws_a_venue_through_the_partners_inbox(inbox: Inbox, capsys):
    from pipeline.cli import main
    from pipeline.ingest.flow import process_files
    from pipeline.receive.inbox import plan_batches, scan_inboxes
    from transforms.memo import dataset_versions

    inbox.send("agglo-lieux", "lieux.csv", (
        "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
        "lieu-1,21910477700019,Médiathèque George Sand,Palaiseau,91120,91477,"
        "1 place de la Mairie,2026-01-15,Aide aux démarches administratives\n"))
    before = dataset_versions(ledger.entries())
    assert main(["retirer", "agglo-lieux", "lieux", "lieu-1", "--motif", "fermé"]) == 0
    (written,) = (inbox.data / "inbox" / "agglo-lieux").glob("retrait_lieux_*.csv")
    assert written.read_text(encoding="utf-8") == "id;motif\nlieu-1;fermé\n"
    (batch,) = plan_batches(scan_inboxes())
    (outcome,) = process_files([(c["partner"], c["path"]) for c in batch["fichiers"]])
    assert outcome.status == ledger.STATUS_WITHDRAWN
    assert warehouse.current_rows("lieux").empty
    assert dataset_versions(ledger.entries())["lieux"] != before["lieux"]  # results recomputed
    assert main(["retirer", "agglo-lieux", "pass", "x"]) == 1
    assert "n'envoie pas de données « pass »" in capsys.readouterr().err


# --- 4. nothing accepted is lost or counted twice -------------------------------------------

KEYS = ("S1", "S2")
ATTENDED = ("5", "6", "7")
SLOT = st.integers(min_value=0, max_value=9)  # when the file was received, in any order
step = st.one_of(
    st.tuples(st.just("rows"), st.dictionaries(st.sampled_from(KEYS), st.sampled_from(ATTENDED),
                                               min_size=1), SLOT),
    st.tuples(st.just("withdraw"), st.lists(st.sampled_from(KEYS + ("S9",)), min_size=1,
                                            max_size=2, unique=True), SLOT),
    st.tuples(st.just("rejected"), st.sampled_from(KEYS), SLOT),
    st.tuples(st.just("same_bytes"), st.integers(min_value=0, max_value=20), SLOT),
)


def _session_file(values: dict[str, str]) -> str:
    return "\n".join([WORKSHOP_HEADER, *(
        WORKSHOP_ROW.replace("S1;", f"{key};").replace(";7;Réalisée;", f";{attended};Réalisée;")
        for key, attended in sorted(values.items()))]) + "\n"


@settings(max_examples=examples(25), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=7))
@example(steps=[("rows", {"S1": "5"}, 0), ("withdraw", ["S1"], 5), ("rows", {"S1": "6"}, 2)])
@example(steps=[("withdraw", ["S2"], 5), ("rows", {"S2": "6"}, 2), ("same_bytes", 0, 9)])
def test_current_rows_are_the_last_accepted_version_minus_withdrawals(tmp_path_factory,
                                                                      monkeypatch, steps):
    """Files arrive in any order of their reception times (a file copied late keeps its
    time): per key, the most recently received accepted version or withdrawal decides."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("INCLUSION_DATA", str(folder))
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory.toml"))
    inbox = Inbox(folder)
    latest: dict[str, tuple[int, str | None]] = {}  # key -> (time, presents or withdrawn)
    sent: list[tuple[str, str]] = []  # (kind, text) of every file, to drop again
    for number, (kind, arg, slot) in enumerate(steps):
        if kind == "same_bytes":
            if not sent:
                continue
            kind, text = sent[arg % len(sent)]
        elif kind == "rows":
            text = _session_file(arg)
        elif kind == "withdraw":
            text = "identifiant_seance\n" + "\n".join(arg) + "\n"
        else:  # a file with an error: nothing of it counts
            text = _session_file({arg: "5"}).replace(";Seniors;", ";Retraités;")
        name = f"{'retrait_' if kind == 'withdraw' else ''}ateliers_{number}.csv"
        when = MOMENT + 60 * (10 * slot + number)  # never two files at the same time
        outcome, report = inbox.send("ville-palaiseau", name, text, at=when)
        known_bytes = (kind, text) in sent
        sent.append((kind, text))
        if outcome.duplicate:  # the same bytes again change nothing
            assert known_bytes
            continue
        assert (outcome.status == ledger.STATUS_REJECTED) == (kind == "rejected"), report
        changes = (_parse(text) if kind == "rows" else
                   dict.fromkeys(text.split()[1:]) if kind == "withdraw" else {})
        for key, value in changes.items():
            if when > latest.get(key, (-1, None))[0]:
                latest[key] = (when, value)
    model = {key: value for key, (_when, value) in latest.items() if value is not None}
    rows = warehouse.current_rows("ateliers")
    assert len(rows) == len(set(rows["identifiant_seance"]))  # never counted twice
    assert {r["identifiant_seance"]: str(int(r["presents"]))
            for r in rows.to_dict("records")} == model


def _parse(text: str) -> dict[str, str]:
    lines = [line.split(";") for line in text.strip().split("\n")[1:]]
    return {cells[0]: cells[11] for cells in lines}
