"""Real partner files never jam the inbox: very long names, slow uploads, unexpected errors.
Everything goes through the DAG's own entry points (scan_inboxes, plan_batches, process_files,
report_refusals) on the corpus territory."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.ingest.flow import BatchIncomplete, process_files
from pipeline.load import ledger, warehouse
from pipeline.receive.inbox import plan_batches, report_refusals, scan_inboxes

CORPUS = Path(__file__).parent / "corpus"
PARTNER = "ville-palaiseau"
HEADER = ("identifiant_seance;commune;lieu;adresse;date;heure_debut;duree_minutes;thematique;"
          "public;places;inscrits;presents;statut;inscription\n")


def session(number: int) -> str:
    return (f"S{number};91477;Médiathèque George Sand;1 place de la Mairie;12/01/2026;14h30;60;"
            "Prise en main du smartphone;Seniors;10;8;7;Réalisée;CCAS, 01 69 31 00 00\n")


SESSIONS = HEADER + "".join(session(n) for n in range(1, 4))


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory.toml"))
    (data_dir / "inbox" / PARTNER).mkdir(parents=True)
    return data_dir


def inbox(data: Path) -> Path:
    return data / "inbox" / PARTNER


def run_like_the_dag() -> tuple[list, list[str]]:
    """One run of reception_fichiers: scan, refusals, batches; each batch on its own."""
    refusals: list = []
    candidates = scan_inboxes(refusals=refusals)
    report_refusals(refusals)
    outcomes, failures = [], []
    for batch in plan_batches(candidates):
        try:
            outcomes += process_files([(c["partner"], c["path"]) for c in batch["fichiers"]])
        except BatchIncomplete as exc:
            failures.append(str(exc))
    return outcomes, failures


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def reports_in(data: Path) -> list[Path]:
    return [p for p in files_in(inbox(data)) if p.name.endswith(".rapport.txt")]


# 1. Long names ---------------------------------------------------------------------------

def name_of_bytes(stem: str, total: int, extension: str = ".csv") -> str:
    """A name of exactly ``total`` UTF-8 bytes made of ``stem`` repeated (accents count 2)."""
    name = ""
    while len((name + stem[0] + extension).encode()) <= total:
        name += stem[len(name) % len(stem)]
    return name + "x" * (total - len((name + extension).encode())) + extension


def test_a_file_with_the_longest_possible_name_is_loaded_archived_and_reported(env: Path):
    name = name_of_bytes("Relevé des séances d'ateliers numériques à Palaiseau ", 255)
    assert len(name.encode()) == 255
    (inbox(env) / name).write_text(SESSIONS, encoding="utf-8")
    (batch,) = plan_batches(scan_inboxes())
    assert len(batch["lot"]) <= 250  # Airflow keeps a mapped task's label in 250 characters

    outcomes, failures = run_like_the_dag()

    assert failures == []
    assert [o.status for o in outcomes] == [ledger.STATUS_ACCEPTED]
    assert not (inbox(env) / name).exists()  # never left in the inbox
    (report,) = reports_in(env)
    text = report.read_text(encoding="utf-8")
    assert f"Fichier : {name}" in text and "ACCEPTÉ" in text
    assert report.name.startswith(name[:100]) and report.name.endswith(".csv.rapport.txt")
    (archived,) = files_in(env / "archive")
    assert archived.read_text(encoding="utf-8") == SESSIONS
    assert archived.name.startswith(outcomes[0].sha256[:16] + "__" + name[:100])
    assert archived.suffix == ".csv"
    assert len(warehouse.current_rows("ateliers")) == 3
    assert all(len(os.fsencode(p.name)) <= 255 for p in files_in(env))


def test_long_names_that_differ_only_in_the_middle_keep_distinct_reports(env: Path):
    base = name_of_bytes("Séances d'ateliers ", 254)
    middle = len(base) // 2
    first, second = (base[:middle] + digit + base[middle + 1:] for digit in "12")
    rows = {first: HEADER + session(1), second: HEADER + session(2)}
    for name, text in rows.items():
        (inbox(env) / name).write_text(text, encoding="utf-8")

    outcomes, failures = run_like_the_dag()

    assert failures == [] and len(outcomes) == 2
    reports = reports_in(env)
    assert len(reports) == 2
    assert {r.read_text(encoding="utf-8").splitlines()[2] for r in reports} == {
        f"Fichier : {first}", f"Fichier : {second}"}
    assert len(files_in(env / "archive")) == 2
    assert files_in(inbox(env)) == reports


def test_a_refused_entry_with_a_long_name_gets_its_report(env: Path):
    folder = name_of_bytes("Dossier à part ", 255, extension="")
    (inbox(env) / folder).mkdir()
    run_like_the_dag()
    (report,) = reports_in(env)
    assert "c'est un dossier" in report.read_text(encoding="utf-8")


# 2. Slow uploads ---------------------------------------------------------------------------

class SlowUpload(threading.Thread):
    """A partner's upload in chunks: each chunk is written when the test says so, the file held
    open for writing all along (like scp, an FTP or SMB server), or reopened for each chunk
    (like a client appending over a share)."""

    def __init__(self, path: Path, chunks: list[str], keep_open: bool):
        super().__init__(daemon=True)
        self.path, self.chunks, self.keep_open = path, chunks, keep_open
        self.go, self.written = threading.Semaphore(0), threading.Semaphore(0)

    def run(self) -> None:
        handle = self.path.open("a", encoding="utf-8") if self.keep_open else None
        for chunk in self.chunks:
            self.go.acquire()
            if handle is None:
                with self.path.open("a", encoding="utf-8") as once:
                    once.write(chunk)
            else:
                handle.write(chunk)
                handle.flush()
            self.written.release()
        if handle is not None:
            handle.close()

    def next_chunk(self) -> None:
        self.go.release()
        assert self.written.acquire(timeout=30), "the writer did not write its chunk"


def chunks_of(text: str, parts: int) -> list[str]:
    size = len(text) // parts + 1
    return [text[i:i + size] for i in range(0, len(text), size)]


LONG_UPLOAD = HEADER + "".join(session(n) for n in range(1, 41))


def test_a_file_still_held_open_for_writing_is_neither_read_nor_moved(env: Path):
    path = inbox(env) / "ateliers_lent.csv"
    upload = SlowUpload(path, chunks_of(LONG_UPLOAD, 4), keep_open=True)
    upload.start()
    for _ in range(3):  # three chunks out of four: rows end in the middle of a line
        upload.next_chunk()
        assert scan_inboxes() == []
        # Even when an earlier scan listed it, the batch leaves it alone.
        assert process_files([(PARTNER, str(path))]) == []
        assert files_in(inbox(env)) == [path] and ledger.entries() == []
    upload.next_chunk()
    upload.join(timeout=30)

    outcomes, failures = run_like_the_dag()

    assert failures == [] and [o.rows_loaded for o in outcomes] == [40]
    assert len(warehouse.current_rows("ateliers")) == 40
    (archived,) = files_in(env / "archive")
    assert archived.read_text(encoding="utf-8") == LONG_UPLOAD


WRITER = """
import sys
with open(sys.argv[1], "a", encoding="utf-8") as handle:
    for chunk in sys.stdin:  # one chunk per line the test sends, then "written"
        handle.write(chunk.replace("|", "\\n"))
        handle.flush()
        print("written", flush=True)
"""


def test_a_file_held_open_by_another_process_waits_until_it_is_closed(env: Path):
    """Another process writes it, as an SFTP or SMB server on this machine would."""
    path = inbox(env) / "ateliers_sftp.csv"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        for line in LONG_UPLOAD.splitlines()[:10]:
            writer.stdin.write(line + "|\n")
            writer.stdin.flush()
            assert writer.stdout.readline() == "written\n"
        assert path.stat().st_size > 0
        outcomes, failures = run_like_the_dag()
        assert (outcomes, failures) == ([], []) and files_in(inbox(env)) == [path]
        for line in LONG_UPLOAD.splitlines()[10:]:
            writer.stdin.write(line + "|\n")
        writer.stdin.close()
        assert writer.wait(timeout=60) == 0
    finally:
        writer.kill()
    outcomes, _ = run_like_the_dag()
    assert [o.rows_loaded for o in outcomes] == [40]


def test_a_file_that_grows_while_it_is_read_is_not_committed(env: Path, monkeypatch):
    """The writer closes the file between chunks, so only the re-check of its size, time and
    inode can tell: the next chunk arrives after the fingerprint, before the commit."""
    from pipeline.ingest import flow

    path = inbox(env) / "ateliers_lent.csv"
    upload = SlowUpload(path, chunks_of(LONG_UPLOAD, 2), keep_open=False)
    upload.start()
    upload.next_chunk()
    real_screen = flow.screen

    def screen_while_uploading(*args):
        examination = real_screen(*args)
        upload.next_chunk()  # the rest of the file lands while it is being examined
        return examination

    monkeypatch.setattr(flow, "screen", screen_while_uploading)
    outcomes, failures = run_like_the_dag()
    assert (outcomes, failures) == ([], [])
    assert ledger.entries() == [] and files_in(inbox(env)) == [path]  # no report, not moved

    monkeypatch.setattr(flow, "screen", real_screen)
    outcomes, failures = run_like_the_dag()
    assert failures == [] and [o.rows_loaded for o in outcomes] == [40]
    assert files_in(env / "archive")[0].read_text(encoding="utf-8") == LONG_UPLOAD


def test_a_file_that_grows_after_its_commit_is_not_moved(env: Path, monkeypatch):
    """Between the commit and the move: the file stays, and its complete bytes, a new file
    for the next scan, supersede the rows of the part that was read."""
    from pipeline.ingest import record

    path = inbox(env) / "ateliers_lent.csv"
    head = HEADER + "".join(session(n) for n in range(1, 21))
    upload = SlowUpload(path, [head, LONG_UPLOAD[len(head):]], keep_open=False)
    upload.start()
    upload.next_chunk()

    def upload_after_commit(name: str) -> None:
        if name == "ingest-after-commit":
            upload.next_chunk()

    real_fault_point = record.fault_point
    monkeypatch.setattr(record, "fault_point", upload_after_commit)
    (outcome,), _ = run_like_the_dag()
    assert outcome.rows_loaded == 20
    assert path.read_text(encoding="utf-8") == LONG_UPLOAD  # still in the inbox, complete
    assert files_in(env / "archive") == []

    monkeypatch.setattr(record, "fault_point", real_fault_point)
    (outcome,), failures = run_like_the_dag()
    assert failures == [] and outcome.rows_loaded == 40
    assert len(warehouse.current_rows("ateliers")) == 40
    assert not path.exists()
    assert any(p.read_text(encoding="utf-8") == LONG_UPLOAD for p in files_in(env / "archive"))


def test_a_recent_file_waits_for_the_settle_time(env: Path, monkeypatch):
    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")
    monkeypatch.delenv("INCLUSION_SETTLE_SECONDS")  # the default
    assert scan_inboxes() == []
    os.utime(path, (path.stat().st_mtime - 120,) * 2)
    assert [Path(c.path) for c in scan_inboxes()] == [path]


# 3. The safety net -------------------------------------------------------------------------

def crash_on_read(monkeypatch, error: Exception) -> None:
    from pipeline.ingest import screen

    def read(*_args):
        raise error

    monkeypatch.setattr(screen, "_read", read)


def test_a_file_that_keeps_crashing_ends_in_quarantine_with_a_report_and_an_alert(
        env: Path, monkeypatch):
    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")
    crash_on_read(monkeypatch, RuntimeError("bogue de lecture"))
    listed = [(PARTNER, str(path))]

    with pytest.raises(BatchIncomplete, match="ville-palaiseau/ateliers.csv"):
        process_files(listed)
    assert files_in(inbox(env)) == [path]  # first failure: left for the retry

    with pytest.raises(BatchIncomplete, match="mis en quarantaine après 2 pannes"):
        process_files(listed)  # the retry
    assert not path.exists()
    (quarantined,) = files_in(env / "quarantine")
    assert quarantined.read_text(encoding="utf-8") == SESSIONS
    (report,) = reports_in(env)
    text = report.read_text(encoding="utf-8")
    for words in ("Fichier : ateliers.csv", "NON TRAITÉ", "problème interne",
                  "L'équipe de l'agglomération a été prévenue",
                  "Aucune ligne de ce fichier n'a été enregistrée"):
        assert words in text, text
    (alert,) = files_in(env / "alertes")
    assert "ateliers.csv" in alert.read_text(encoding="utf-8")
    assert ledger.entries() == [] and len(warehouse.current_rows("ateliers")) == 0

    with pytest.raises(BatchIncomplete, match="mis en quarantaine"):
        process_files(listed)  # the task's last retry still fails: the run shows it
    assert process_files(listed) == []  # and the next run has nothing left to do


def test_a_file_that_crashes_after_its_commit_keeps_its_verdict_in_quarantine(
        env: Path, monkeypatch):
    from pipeline.ingest import record

    path = inbox(env) / "ateliers.csv"
    path.write_text(SESSIONS, encoding="utf-8")

    def broken_report_path(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record, "report_path", broken_report_path)  # the report after a commit
    for _ in range(2):
        _, failures = run_like_the_dag()
        assert failures
    assert [e.status for e in ledger.entries()] == [ledger.STATUS_ACCEPTED]
    assert len(warehouse.current_rows("ateliers")) == 3  # loaded once
    (report,) = reports_in(env)
    text = report.read_text(encoding="utf-8")
    assert "ACCEPTÉ" in text and "a bien été traité" in text
    assert files_in(inbox(env)) == [report]
