"""QR codes drawn by a second process during the site build (pages.qr_worker): the same bytes
as drawn in place, every file written before the build goes on, and a child that dies fails
the build instead of leaving codes missing."""

from __future__ import annotations

import pytest

from pages import qr_worker
from pages.posters import qr_svg
from pages.qr_worker import QrWorkerFailed, QrWriter

TITLE = "Code QR vers la page de l'atelier"


def _urls(count: int) -> list[str]:
    return [f"https://numerique.example.fr/ateliers/ville-{n}-seance-{n * 7}/"
            for n in range(count)]


def test_codes_drawn_by_the_child_are_byte_identical_and_all_written(tmp_path, monkeypatch):
    monkeypatch.setattr(qr_worker, "INLINE_FIRST", 5)
    monkeypatch.setattr(qr_worker, "_one_core", lambda: False)
    writer = QrWriter(tmp_path)
    urls = _urls(300)
    for n, url in enumerate(urls):
        writer.write(f"ateliers/{n}/qr.svg", url, TITLE)
    writer.close()
    assert writer.drawn_here == 5  # then the child drew the other 295
    for n, url in enumerate(urls):
        assert (tmp_path / f"ateliers/{n}/qr.svg").read_bytes() == qr_svg(url, TITLE).encode()
    assert not list(tmp_path.rglob(".*.tmp"))


def test_a_child_that_dies_fails_the_build(tmp_path, monkeypatch):
    monkeypatch.setattr(qr_worker, "INLINE_FIRST", 0)
    monkeypatch.setattr(qr_worker, "_one_core", lambda: False)
    writer = QrWriter(tmp_path)
    writer.write("a/qr.svg", _urls(1)[0], TITLE)
    writer._process.kill()
    with pytest.raises((QrWorkerFailed, BrokenPipeError)):
        for n, url in enumerate(_urls(2000)):  # the pipe breaks, or close() counts the gap
            writer.write(f"b/{n}/qr.svg", url, TITLE)
        writer.close()


def test_abort_stops_the_child_without_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(qr_worker, "INLINE_FIRST", 0)
    monkeypatch.setattr(qr_worker, "_one_core", lambda: False)
    writer = QrWriter(tmp_path)
    writer.write("a/qr.svg", _urls(1)[0], TITLE)
    writer.abort()
    assert writer._process.poll() is not None


def test_a_one_core_machine_draws_every_code_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(qr_worker, "INLINE_FIRST", 0)
    monkeypatch.setattr(qr_worker, "_one_core", lambda: True)
    writer = QrWriter(tmp_path)
    for n, url in enumerate(_urls(3)):
        writer.write(f"{n}/qr.svg", url, TITLE)
    writer.close()
    assert writer._process is None and writer.drawn_here == 3
