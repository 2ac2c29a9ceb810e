"""Territory configuration and runtime paths.

The territory (communes, partners) is read from one TOML file; all runtime state lives under one
data folder. Both are chosen by environment variables so tests and the demo never share state.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.mapping import Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TERRITORY_FILE = REPO_ROOT / "territory.toml"


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    inbox: str
    communes: tuple[str, ...]
    datasets: tuple[str, ...]
    # How to read this partner's own export layout (see pipeline.mapping), if it has one.
    mapping: Mapping | None = None
    # Where the partner publishes its export, if it is pulled rather than dropped.
    source_url: str | None = None
    source_name: str | None = None


@dataclass(frozen=True)
class Territory:
    name: str
    short_name: str
    site_title: str
    contact_email: str
    contact_phone: str
    timezone: str
    site_url: str
    communes: tuple[Commune, ...]
    partners: tuple[Partner, ...]

    @cached_property
    def commune_names(self) -> dict[str, str]:
        return {c.insee: c.name for c in self.communes}

    def partner(self, partner_id: str) -> Partner:
        for partner in self.partners:
            if partner.id == partner_id:
                return partner
        raise KeyError(f"unknown partner {partner_id!r}")

    def partner_communes(self, partner: Partner) -> list[str]:
        if "*" in partner.communes:
            return [c.insee for c in self.communes]
        return list(partner.communes)


def load_territory(path: Path | None = None) -> Territory:
    path = path or Path(os.environ.get("INCLUSION_TERRITORY", DEFAULT_TERRITORY_FILE))
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    info = raw["territory"]
    communes = tuple(Commune(str(c["insee"]), c["name"]) for c in raw.get("communes", []))
    known = {c.insee for c in communes}
    partners = []
    for p in raw.get("partners", []):
        partner = Partner(
            id=p["id"],
            name=p["name"],
            inbox=p.get("inbox", p["id"]),
            communes=tuple(str(c) for c in p.get("communes", [])),
            datasets=tuple(p.get("datasets", [])),
            mapping=Mapping.from_config(p.get("mapping")),
            source_url=p.get("source_url"),
            source_name=p.get("source_name"),
        )
        unknown = [c for c in partner.communes if c != "*" and c not in known]
        if unknown:
            raise ValueError(f"{path}: partner {partner.id} lists unknown communes {unknown}")
        partners.append(partner)
    return Territory(
        name=info["name"],
        short_name=info.get("short_name", info["name"]),
        site_title=info.get("site_title", info["name"]),
        contact_email=info.get("contact_email", ""),
        contact_phone=info.get("contact_phone", ""),
        timezone=info.get("timezone", "Europe/Paris"),
        site_url=info.get("site_url", "").rstrip("/"),
        communes=communes,
        partners=tuple(partners),
    )


@dataclass(frozen=True)
class DataPaths:
    """Every runtime folder, all under one root (``INCLUSION_DATA``, default ``./data``)."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def warehouse_file(self) -> Path:
        return self.root / "warehouse" / "warehouse.sqlite"

    @property
    def site_root(self) -> Path:
        return self.root / "site"

    @property
    def site_builds(self) -> Path:
        return self.site_root / "builds"

    @property
    def site_current(self) -> Path:
        """Symlink to the build residents see; swapped atomically by ``pipeline.publish``."""
        return self.site_root / "current"


    def partner_inbox(self, partner: Partner) -> Path:
        return self.inbox / partner.inbox


def data_paths() -> DataPaths:
    return DataPaths(Path(os.environ.get("INCLUSION_DATA", REPO_ROOT / "data")).resolve())


def warehouse_url() -> str:
    """SQLAlchemy URL of the warehouse; ``INCLUSION_WAREHOUSE_URL`` overrides the SQLite file."""
    url = os.environ.get("INCLUSION_WAREHOUSE_URL")
    if url:
        return url
    return f"sqlite:///{data_paths().warehouse_file}"
