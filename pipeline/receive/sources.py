"""Pulled sources: partners that publish their export at a web address instead of dropping it.

For each partner with a ``source_url`` in the territory configuration, the scan downloads the
file with a conditional request (ETag / Last-Modified), a timeout and a size limit, and, when
the content changed, writes it into the partner's inbox, where it is processed exactly like a
dropped file (ledger, validation, report). A source that cannot be reached produces a steward
alert, never a failed pipeline: the partner's previous data stays published.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import settings
from pipeline.config import DataPaths, Partner, Territory, data_paths, load_territory
from pipeline.files import write_atomically
from pipeline.alerts import raise_alert

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class PullResult:
    partner: str
    status: str  # "nouveau", "inchange", "erreur"
    detail: str = ""


def _state_file(paths: DataPaths, partner: Partner) -> Path:
    return paths.root / "sources" / f"{partner.id}.json"


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def _download(url: str, state: dict) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers={"User-Agent": "numerique-pour-tous/1"})
    if state.get("etag"):
        request.add_header("If-None-Match", state["etag"])
    if state.get("last_modified"):
        request.add_header("If-Modified-Since", state["last_modified"])
    timeout = settings.get("INCLUSION_PULL_TIMEOUT")
    max_bytes = int(settings.get("INCLUSION_PULL_MAX_MB") * 1_000_000)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise ValueError(f"fichier de plus de {max_bytes // 1_000_000} Mo")
            return response.status, body, {"etag": response.headers.get("ETag"),
                                           "last_modified": response.headers.get("Last-Modified")}
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return 304, b"", {}
        raise


def pull_partner(partner: Partner, paths: DataPaths) -> PullResult:
    url = partner.source_url
    if not _allowed(url):
        raise_alert(f"Source refusée {partner.id}", f"L'adresse {url} n'est pas en https.")
        return PullResult(partner.id, "erreur", "adresse non https")
    state_path = _state_file(paths, partner)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    try:
        status, body, headers = _download(url, state)
    except (OSError, ValueError, urllib.error.URLError) as error:
        raise_alert(f"Source injoignable {partner.id}",
                    f"Le fichier publié par {partner.name} à l'adresse {url} n'a pas pu être "
                    f"récupéré ({error}). Les données déjà reçues restent publiées ; la "
                    "récupération sera retentée au prochain passage. Si cela dure, contactez le "
                    "partenaire.")
        return PullResult(partner.id, "erreur", str(error))
    if status == 304:
        return PullResult(partner.id, "inchange", "304")
    digest = hashlib.sha256(body).hexdigest()
    new_state = {**state, **{k: v for k, v in headers.items() if v}, "sha256": digest}
    if digest != state.get("sha256"):
        name = partner.source_name or Path(urlsplit(url).path).name or f"{partner.id}.csv"
        folder = paths.partner_inbox(partner)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.part"  # ignored by the scan until renamed
        partial.write_bytes(body)
        os.replace(partial, folder / name)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(state_path, json.dumps(new_state))
    return PullResult(partner.id, "nouveau" if digest != state.get("sha256") else "inchange")


def pull_sources(territory: Territory | None = None,
                 paths: DataPaths | None = None) -> list[PullResult]:
    territory = territory or load_territory()
    paths = paths or data_paths()
    return [pull_partner(p, paths) for p in territory.partners if p.source_url]
