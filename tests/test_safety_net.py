"""pipeline/ingest/safety_net.py on its own: the count of unexpected failures per file, the
quarantine with a « problème interne » report at the bound, and the count forgotten once the
same bytes are processed. (tests/test_inbox.py runs the net through whole batches.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_inbox import PARTNER, SESSIONS, env, files_in, inbox  # noqa: F401 (fixture)

from pipeline.config import data_paths, load_territory
from pipeline.ingest import safety_net
from pipeline.ingest.flow import process_files
from pipeline.load import ledger


def fail_once(path: Path) -> str:
    territory = load_territory()
    return safety_net.note_failure(territory.partner(PARTNER), path,
                                   RuntimeError("bogue de lecture"), data_paths(), territory)


def test_the_second_failure_quarantines_the_file_with_an_internal_problem_report(env: Path):
    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")

    assert fail_once(path) == f"{PARTNER}/ateliers.csv"  # below the bound: left for the retry
    assert path.exists() and files_in(env / "quarantine") == []

    assert fail_once(path) == f"{PARTNER}/ateliers.csv (mis en quarantaine après 2 pannes)"
    assert not path.exists()
    (quarantined,) = files_in(env / "quarantine" / PARTNER)
    assert quarantined.read_text(encoding="utf-8") == SESSIONS
    report = (inbox(env) / "ateliers.csv.rapport.txt").read_text(encoding="utf-8")
    assert "Résultat : fichier NON TRAITÉ, à cause d'un problème interne" in report
    assert "(2 essais)" in report and "Aucune ligne de ce fichier n'a été enregistrée" in report
    (alert,) = files_in(env / "alertes")
    assert "bogue de lecture" in alert.read_text(encoding="utf-8")
    assert ledger.entries() == []

    partner = load_territory().partner(PARTNER)
    # The retry that no longer finds the file is told once, so that it fails too.
    assert safety_net.quarantined_after_failures(data_paths(), partner, path)
    assert not safety_net.quarantined_after_failures(data_paths(), partner, path)


def test_a_success_resets_the_count(env: Path):
    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")
    fail_once(path)
    (outcome,) = process_files([(PARTNER, str(path))])  # the retry goes through
    assert outcome.status == ledger.STATUS_ACCEPTED

    again = inbox(env) / "ateliers_copie.csv"  # the same bytes, failing again later
    again.write_text(SESSIONS, encoding="utf-8")
    assert fail_once(again) == f"{PARTNER}/ateliers_copie.csv"  # a first failure, not a second
    assert again.exists()
    assert [p.parent.name for p in files_in(env / "archive")] == [PARTNER]  # nothing quarantined
    assert files_in(env / "quarantine") == []


@pytest.mark.parametrize("bound", [1, 3])
def test_the_bound_is_the_setting(env: Path, monkeypatch: pytest.MonkeyPatch, bound: int):
    monkeypatch.setenv("INCLUSION_MAX_FAILURES", str(bound))
    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")
    for _ in range(bound - 1):
        fail_once(path)
        assert path.exists()
    assert fail_once(path).endswith(f"(mis en quarantaine après {bound} pannes)")
    assert not path.exists()


def test_the_steward_puts_a_file_quarantined_by_the_net_back_once_the_bug_is_fixed(env: Path):
    """``python -m pipeline.cli reprocess`` finds a file the net quarantined (no ledger entry)
    by its fingerprint, puts it back under its own name with fresh attempts, and it goes
    through."""
    from pipeline.cli import main
    from pipeline.files import sha256_of

    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")
    sha = sha256_of(path)
    fail_once(path)
    fail_once(path)
    assert not path.exists()

    assert main(["reprocess", PARTNER, sha[:10]]) == 0
    assert path.read_text(encoding="utf-8") == SESSIONS
    assert fail_once(path) == f"{PARTNER}/ateliers.csv"  # a first failure again: count reset
    (outcome,) = process_files([(PARTNER, str(path))])
    assert outcome.status == ledger.STATUS_ACCEPTED
    assert main(["reprocess", PARTNER, "0" * 10]) == 1  # nothing matches: said, not guessed


def test_an_attempt_ending_in_any_handled_way_leaves_no_mark(env: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    """Only a kill leaves an attempt's mark (tests/test_killed_attempts.py): a refusal, an
    unexpected error (counted as a failure instead) and a success remove theirs."""
    from pipeline.ingest import screen
    from pipeline.ingest.flow import BatchIncomplete

    marks = env / "etat" / "pannes" / PARTNER / "essais"
    refused = inbox(env) / "ateliers_vides.csv"
    refused.write_text("rien;a;voir\n1;2;3\n", encoding="utf-8")
    (outcome,) = process_files([(PARTNER, str(refused))])
    assert outcome.status == ledger.STATUS_REJECTED and files_in(marks) == []

    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(screen, "_read", lambda *_: (_ for _ in ()).throw(RuntimeError("bogue")))
        with pytest.raises(BatchIncomplete):
            process_files([(PARTNER, str(path))])
    assert files_in(marks) == [] and len(files_in(env / "etat" / "pannes")) == 1  # a failure
    (outcome,) = process_files([(PARTNER, str(path))])
    assert outcome.status == ledger.STATUS_ACCEPTED
    assert files_in(env / "etat" / "pannes") == []
