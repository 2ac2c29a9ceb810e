"""pages/qr_drawing.py: a build's QR files drawn in a second process are the bytes the build
would have drawn itself; when that process fails or cannot start, the build draws them."""

from __future__ import annotations

import sys

import pytest

from pages.posters import qr_svg
from pages.qr_drawing import QrDrawer

URLS = [f"https://inclusion.exemple.fr/lieux/médiathèque-{n}/" for n in range(12)]


def add_all(drawer: QrDrawer, folder) -> list:
    paths = [folder / "lieux" / f"é-{n}" / "qr.svg" for n in range(len(URLS))]
    for path, url in zip(paths, URLS):
        drawer.add(path, url, "Code QR vers la page du lieu")
    return paths


def assert_drawn(paths) -> None:
    for path, url in zip(paths, URLS):
        assert path.read_bytes() == qr_svg(url, "Code QR vers la page du lieu").encode("utf-8")
    assert not [p for p in paths[0].parent.parent.rglob(".*tmp")]


def test_past_the_threshold_a_second_process_draws_the_same_files(tmp_path):
    drawer = QrDrawer(offload_from=3)
    paths = add_all(drawer, tmp_path)
    assert drawer.process is not None and drawer.process.pid
    drawer.finish()
    assert drawer.process is None and not drawer.waiting
    assert_drawn(paths)


def test_below_the_threshold_the_build_draws_them(tmp_path):
    drawer = QrDrawer(offload_from=100)
    paths = add_all(drawer, tmp_path)
    assert drawer.process is None and not paths[0].exists()  # drawn at the end
    drawer.finish()
    assert_drawn(paths)


@pytest.mark.parametrize("command", [
    [sys.executable, "-c", "import sys; sys.stdin.buffer.read(100); sys.exit(3)"],
    ["/aucun/programme/de/ce/nom"],
])
def test_a_failed_second_process_leaves_the_build_to_draw_everything(tmp_path, command):
    drawer = QrDrawer(offload_from=2, command=command)
    paths = add_all(drawer, tmp_path)
    drawer.finish()
    assert_drawn(paths)


def test_a_failed_build_stops_the_second_process(tmp_path):
    drawer = QrDrawer(offload_from=1, command=[sys.executable, "-c", "import time; time.sleep(60)"])
    add_all(drawer, tmp_path)
    process = drawer.process
    drawer.abandon()
    assert drawer.process is None and process.poll() is not None


def test_a_demo_build_with_every_code_drawn_aside_is_the_same_site(demo_site, data_dir,
                                                                   monkeypatch):
    from site_fixture import build_demo_site

    monkeypatch.setattr("pages.qr_drawing.OFFLOAD_FROM", 1)
    monkeypatch.setattr("pages.qr_drawing.BATCH", 2)
    aside = build_demo_site(data_dir).resolve()
    codes = sorted(p.relative_to(demo_site) for p in demo_site.rglob("qr.svg"))
    assert len(codes) > 20
    assert sorted(p.relative_to(aside) for p in aside.rglob("qr.svg")) == codes
    for code in codes:
        assert (aside / code).read_bytes() == (demo_site / code).read_bytes(), code
