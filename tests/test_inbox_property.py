"""Whatever partners drop, every file ends archived or quarantined with a report beside its
name in the inbox, and none is left there (property-based, Hypothesis).

Drops: the sample partner files re-written with random delimiters, quoting and encodings, cut
anywhere, random bytes, empty files, under random names (accents, spaces, up to the 255-byte
limit). The DAG's entry points process them, as often as its task would be tried (a file that
crashes the reader is quarantined by the safety net on its second failure)."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from demo.samples import write_samples
from pipeline.files import NAME_MAX_BYTES, fit_name, report_name, stored_name
from pipeline.ingest.flow import BatchIncomplete, process_files
from pipeline.receive.inbox import is_ignored_name, plan_batches, report_refusals, scan_inboxes
from pipeline.report.reports import report_path

TRIES = 3  # the task's first try and its two retries


def _samples() -> dict[str, tuple[str, str, bytes]]:
    with tempfile.TemporaryDirectory() as folder:
        return {path.name: (path.parent.name, path.suffix.lower(), path.read_bytes())
                for path in write_samples(Path(folder), date(2026, 11, 25))}


SAMPLES = _samples()
PARTNERS = sorted({partner for partner, _, _ in SAMPLES.values()})
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "mac_roman"]


def _rewritten(payload: bytes, delimiter: str, quoting: int, encoding: str) -> bytes:
    """A sample CSV as another spreadsheet would export it."""
    text = payload.decode("utf-8-sig", errors="replace") if not payload.startswith(b"PK") \
        else payload.decode("latin-1")
    dialect = csv.Sniffer().sniff(text[:2000], delimiters=";,\t")
    output = io.StringIO()
    csv.writer(output, delimiter=delimiter, quoting=quoting).writerows(
        csv.reader(io.StringIO(text), dialect))
    return output.getvalue().encode(encoding, errors="replace")


@st.composite
def contents(draw) -> tuple[str, str, bytes]:
    """(partner, extension, bytes) of one drop."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    partner, extension, payload = SAMPLES[name]
    kind = draw(st.sampled_from(["sample", "rewritten", "random", "empty"]))
    if kind == "rewritten" and extension != ".xlsx":
        payload = _rewritten(payload, draw(st.sampled_from([";", ",", "\t", "|"])),
                             draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL,
                                                   csv.QUOTE_NONNUMERIC])),
                             draw(st.sampled_from(ENCODINGS)))
    elif kind == "random":
        payload = draw(st.binary(max_size=3000))
    elif kind == "empty":
        payload = b""
    if payload and draw(st.booleans()):  # cut anywhere, as a half-sent file would be
        payload = payload[:draw(st.integers(0, len(payload)))]
    return draw(st.sampled_from([*PARTNERS, partner, partner])), extension, payload


LETTERS = st.characters(codec="utf-8", categories=["L", "N", "Zs", "Pd", "Po", "Ps", "Pe"],
                        exclude_characters="/\\")


@st.composite
def names(draw, extension: str) -> str:
    stem = draw(st.text(LETTERS, min_size=1, max_size=40))
    if draw(st.booleans()):  # long names, up to the limit
        stem = (stem * 200)[:draw(st.integers(40, 240))]
    name = stem.strip() + draw(st.sampled_from([extension, extension.upper(), ".csv", ".txt", ""]))
    while len(os.fsencode(name)) > 255:
        name = name[1:]
    return name


@st.composite
def drops(draw) -> list[tuple[str, str, bytes]]:
    result, taken = [], set()
    for _ in range(draw(st.integers(1, 3))):
        partner, extension, payload = draw(contents())
        name = draw(names(extension))
        if not name or name in (".", "..") or is_ignored_name(name) or (partner, name) in taken:
            continue  # names the inbox leaves alone by design, or a second file of that name
        taken.add((partner, name))
        result.append((partner, name, payload))
    return result


def run_like_the_dag() -> None:
    refusals: list = []
    candidates = scan_inboxes(refusals=refusals)
    report_refusals(refusals)
    for batch in plan_batches(candidates):
        try:
            process_files([(c["partner"], c["path"]) for c in batch["fichiers"]])
        except BatchIncomplete:
            pass  # the task fails (alert) and is tried again


@pytest.mark.slow
@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(dropped=drops())
def test_every_dropped_file_ends_archived_or_quarantined_with_a_report(dropped):
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        previous = os.environ.get("INCLUSION_DATA")
        os.environ["INCLUSION_DATA"] = str(data)
        os.environ.pop("INCLUSION_TERRITORY", None)  # the sample partners' territory
        try:
            for partner, name, payload in dropped:
                (data / "inbox" / partner).mkdir(parents=True, exist_ok=True)
                (data / "inbox" / partner / name).write_bytes(payload)
            for _ in range(TRIES):
                run_like_the_dag()
            stored = {p.read_bytes() for folder in ("archive", "quarantine")
                      for p in (data / folder).rglob("*") if p.is_file()
                      and not p.name.endswith(".rapport.txt")}
            for partner, name, payload in dropped:
                inbox = data / "inbox" / partner
                assert not (inbox / name).exists(), f"{partner}/{name!r} left in the inbox"
                assert report_path(inbox, name).is_file(), f"no report for {partner}/{name!r}"
                assert payload in stored, f"{partner}/{name!r} neither archived nor quarantined"
        finally:
            if previous is None:
                os.environ.pop("INCLUSION_DATA", None)
            else:
                os.environ["INCLUSION_DATA"] = previous


@settings(max_examples=300, deadline=None)
@given(name=st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1,
                    max_size=300))
def test_every_name_the_pipeline_writes_fits_and_stays_recognisable(name):
    fitted = fit_name(name)
    for written in (fitted, report_name(name), stored_name("0" * 64, name)):
        assert len(os.fsencode(written)) <= NAME_MAX_BYTES < 255
    if len(os.fsencode(name)) <= NAME_MAX_BYTES:
        assert fitted == name
    else:
        extension = os.path.splitext(name)[1]
        assert fitted.endswith(extension) or len(extension.encode()) > 16
        assert fitted[:10] == name[:10] and "…" in fitted
        assert fit_name(name + "x") != fitted  # a longer name is told apart
