"""What the published national site weighs for a resident, measured on the live build:

- the venue search index (``pages.search_index``): its size and file count, and the bytes a
  first query downloads (script, WebAssembly, metadata, the chunks of the words typed);
- the largest list page (the limit that splits lists by commune keeps each under 500 KB);
- the time from typing a commune's name on ``/lieux/`` to the first result shown, in Debian's
  Chromium (headless, the site served by ``python -m http.server`` on 127.0.0.1), for a first
  query (nothing cached, the index's entry files loaded) and a second one on the same page.

    .venv/bin/python -m bench.search <site folder>    # e.g. data/site/current

Without Chromium (or without a search index: the directory is not split) the times are
reported as not measured rather than failing the benchmark.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pages.page_plan import files_under
from pages.search_index import FOLDER
from pipeline import settings

LIST_FOLDERS = ("lieux", "ateliers", "telephones", "pass-numerique", "trouver", "fiches",
                "resultats")
PAGE_LIMIT = 500_000  # bytes: issue 16's ceiling for a list page
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]
SAID = "document.getElementById('r-statut').textContent"
COMMUNE_LINK = re.compile(r'<a href="/lieux/commune/[^/"]+/">([^<]+)</a>')


def index_size(site: Path) -> dict:
    folder = site / FOLDER
    sizes = [(folder / name).stat().st_size for name in files_under(folder)] if (
        folder.is_dir()) else []
    return {"bytes": sum(sizes), "files": len(sizes)}


def largest_list_page(site: Path) -> dict:
    """The heaviest HTML page of the list sections, with the limit it must stay under."""
    path, size = "", 0
    for folder in LIST_FOLDERS:
        if not (site / folder).is_dir():
            continue
        for name in files_under(site / folder):
            if name.endswith(".html"):
                bytes_ = (site / folder / name).stat().st_size
                if bytes_ > size:
                    path, size = f"{folder}/{name}", bytes_
    return {"path": path, "bytes": size, "limit": PAGE_LIMIT, "under_limit": size <= PAGE_LIMIT}


def sample_queries(site: Path) -> list[str]:
    """Two commune names from the index of communes: the first and the last listed."""
    page = site / "lieux" / "index.html"
    names = COMMUNE_LINK.findall(page.read_text(encoding="utf-8")) if page.is_file() else []
    return [names[0], names[-1]] if len(names) >= 2 else names


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _served(site: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(site)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _timed_query(page, text: str) -> float:
    """Seconds from typing ``text`` to its first result link shown (the count said too)."""
    started = time.perf_counter()
    page.fill("#r-texte", text)
    page.wait_for_function(
        f"q => {SAID}.includes('\\u00ab\\u00a0' + q + '\\u00a0\\u00bb') && "
        "document.querySelector('#r-liste h3 a') !== null", arg=text, timeout=60_000)
    page.locator("#r-liste h3 a").first.wait_for(state="visible")
    return round(time.perf_counter() - started, 3)


def time_to_first_result(site: Path, queries: list[str]) -> dict:
    if CHROMIUM is None:
        return {"measured": False, "reason": "Chromium absent"}
    if not (site / FOLDER / "pagefind.js").is_file() or len(queries) < 2:
        return {"measured": False, "reason": "pas d'index de recherche (annuaire non découpé)"}
    from playwright.sync_api import sync_playwright

    with _served(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{url}/lieux/")
            page.wait_for_load_state("load")
            first = _timed_query(page, queries[0])
            first_files = [unquote(urlsplit(u).path) for u in requested
                           if urlsplit(u).path.startswith(f"/{FOLDER}/")]
            second = _timed_query(page, queries[1])
            outside = [u for u in requested if urlsplit(u).netloc != urlsplit(url).netloc]
        finally:
            browser.close()
    transferred = sum((site / p.lstrip("/")).stat().st_size for p in set(first_files)
                      if (site / p.lstrip("/")).is_file())
    return {"measured": True, "queries": queries, "first_s": first, "second_s": second,
            "first_query_bytes": transferred, "first_query_files": len(set(first_files)),
            "requests_elsewhere": len(outside)}


def measure(site: Path) -> dict:
    site = site.resolve()
    return {"index": index_size(site), "largest_list_page": largest_list_page(site),
            "browser": time_to_first_result(site, sample_queries(site))}


BUILDS = {"built": "indexé", "reused": "index du site en ligne repris", None: "sans index"}


def _size(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} Mo".replace(".", ",")
    return f"{value / 1000:.0f} Ko"


def _seconds(value: float) -> str:
    return f"{value:.2f} s".replace(".", ",")


def format_lines(result: dict) -> list[str]:
    """The benchmark table's lines about the search and the page weights (French)."""
    index, page, browser = result["index"], result["largest_list_page"], result["browser"]
    files = f"{index['files']:,}".replace(",", "\u202f")
    line = (f"Index de recherche des lieux : {_size(index['bytes'])} en {files} fichiers"
            if index["files"] else "Index de recherche des lieux : aucun (annuaire non découpé)")
    if index.get("builds"):
        line += " ; par construction : " + ", ".join(BUILDS.get(b, str(b)) for b in index["builds"])
    lines = [line, f"Plus grosse page de liste : /{page['path']} ({_size(page['bytes'])}, "
                   f"{'sous' if page['under_limit'] else 'AU-DESSUS de'} la limite de "
                   f"{_size(page['limit'])})"]
    if browser["measured"]:
        lines.append(
            f"Recherche dans Chromium : premier résultat en {_seconds(browser['first_s'])} "
            f"(première requête « {browser['queries'][0]} », "
            f"{_size(browser['first_query_bytes'])} téléchargés), "
            f"{_seconds(browser['second_s'])} pour la suivante (« {browser['queries'][1]} ») ; "
            "délai de frappe de 0,25 s compris")
    else:
        lines.append(f"Recherche dans Chromium : non mesuré ({browser['reason']})")
    return lines


def main() -> None:
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else settings.get(
        "INCLUSION_DATA") / "site" / "current"
    result = measure(site)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print("\n".join(format_lines(result)))


if __name__ == "__main__":
    main()
