"""What a publication changes, and whether it is unusual enough to wait for a steward.

Each publication compares its new build with the live one: the partner files received since
the live build (the ledger), rows added, superseded, withdrawn and rejected per dataset, pages
added and removed (the two builds' file lists), and the key figures that moved by commune (the
published values of the yearly results' commune tables). The key figures of every build are
stored beside it (``<site>/publications/<id>.chiffres.json``; on the object store when the site
is published there, ``records_folder``, so that every worker reads the same records), so the
next publication compares without reading any HTML. The summary is written there too, as JSON and French text, and the
records of the last publications form the history that ``recent_publications`` lists.

``find_anomalies`` says what makes a publication wait for a steward's approval: a commune's
figure falling (or rising) by more than the ``[publication]`` share of territory.toml, or a
partner's file far smaller than its previous one. Everything here but the storage functions is
pure: plain values in, plain values out, so tests feed it hand-made data.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pages.formatting import number, percent
from pipeline.config import DataPaths, PublicationRules, data_paths
from pipeline.files import write_atomically
from pipeline.load.ledger import (STATUS_LABELS, STATUS_REJECTED, STATUS_WITHDRAWN,
                                  STATUS_WITHDRAWN_WITH_WARNINGS)
from transforms.catalogue import BY_ID, DATASETS

# A publication's status in its record.
READY = "prete"            # built and checked, going online on its own
PENDING = "en_attente"     # waiting for a steward's decision in Airflow
PUBLISHED = "publiee"      # online (or was)
SET_ASIDE = "ecartee"      # refused by a steward: never online, kept aside
STATUS_NAMES = {READY: "prête", PENDING: "en attente de décision", PUBLISHED: "publiée",
                SET_ASIDE: "écartée"}
LISTED = 20  # lines of each list in the French text; the JSON has them all
_WITHDRAWALS = (STATUS_WITHDRAWN, STATUS_WITHDRAWN_WITH_WARNINGS)


@dataclass(frozen=True)
class ReceivedFile:
    """A file of the ledger, as far as a publication's summary is concerned."""
    partner: str
    sha256: str
    dataset: str
    name: str
    received_at: str  # ISO 8601 with its offset
    status: str
    rows_total: int
    rows_loaded: int

    @classmethod
    def from_entry(cls, entry) -> ReceivedFile:
        """From a ``pipeline.load.ledger.LedgerEntry``."""
        return cls(entry.partner, entry.sha256, entry.dataset, entry.original_name,
                   entry.received_at, entry.status, entry.rows_total, entry.rows_loaded)

    @property
    def key(self) -> str:
        return f"{self.partner}:{self.sha256}"

    @property
    def withdrawal(self) -> bool:
        return self.status in _WITHDRAWALS

    @property
    def rows_accepted(self) -> bool:
        """Accepted, and carrying rows (not a withdrawal)."""
        return self.status != STATUS_REJECTED and not self.withdrawal


@dataclass(frozen=True)
class DatasetRows:
    """Rows of one dataset touched by the files received since the live build."""
    added: int
    superseded: int
    withdrawn: int
    rejected: int


@dataclass(frozen=True)
class FigureMove:
    """A commune's published value of one indicator, on the live site and in the new build
    (None: absent or withheld)."""
    dataset: str
    year: int
    commune: str
    commune_name: str
    indicator: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        """Relative change, when both values are known and the live one is not zero."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return (self.after - self.before) / abs(self.before)


@dataclass(frozen=True)
class Anomaly:
    kind: str  # "chiffre" or "fichier"
    message: str  # French, one sentence
    partners: tuple[str, ...] = ()


@dataclass
class ChangeSummary:
    build_id: str
    live_build_id: str | None
    files: list[ReceivedFile] = field(default_factory=list)
    rows: dict[str, DatasetRows] = field(default_factory=dict)
    pages_added: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)
    moves: list[FigureMove] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"build_id": self.build_id, "live_build_id": self.live_build_id,
                "files": [asdict(f) for f in self.files],
                "rows": {d: asdict(r) for d, r in self.rows.items()},
                "pages_added": self.pages_added, "pages_removed": self.pages_removed,
                "moves": [{**asdict(m), "change": m.change} for m in self.moves],
                "anomalies": [asdict(a) for a in self.anomalies]}


# --- Key figures ---------------------------------------------------------------------------

def figure_key(dataset: str, year: int, commune: str, indicator: str) -> str:
    return f"{dataset}|{year}|{commune}|{indicator}"


def key_figures(results: dict) -> dict[str, float]:
    """The published value of every indicator of every commune row of the yearly results
    (``transforms.results.compute_results``), by ``figure_key``. Withheld and missing values
    are left out: they are never compared."""
    figures: dict[str, float] = {}
    for year, content in results.get("by_year", {}).items():
        for table in content.get("sections", []):
            for row in table["rows"]:
                for indicator, value in row.get("published", {}).items():
                    if isinstance(value, (int, float)) and math.isfinite(value):
                        figures[figure_key(table["dataset"], int(year), row["commune"],
                                           indicator)] = float(value)
    return figures


def figure_moves(before: dict[str, float], after: dict[str, float],
                 communes: dict[str, str]) -> list[FigureMove]:
    """Every key figure that differs between the live site and the new build, appearing or
    disappearing ones included, sorted by dataset, year, commune name and indicator."""
    moves = []
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        dataset, year, commune, indicator = key.split("|")
        moves.append(FigureMove(dataset, int(year), commune, communes.get(commune, commune),
                                indicator, old, new))
    return sorted(moves, key=lambda m: (m.dataset, m.year, m.commune_name, m.indicator))


# --- What was received ---------------------------------------------------------------------

def files_since(files: list[ReceivedFile], known: set[str] | None) -> list[ReceivedFile]:
    """The files not yet received when the live build was made (``known``: their keys);
    every file when there is no live build (``None``)."""
    return [f for f in files if known is None or f.key not in known]


def rows_by_dataset(new_files: list[ReceivedFile],
                    superseded: dict[str, int]) -> dict[str, DatasetRows]:
    """Rows added, superseded (``superseded``: counted in the warehouse), withdrawn and rejected
    per dataset, for the new files."""
    datasets = sorted({f.dataset for f in new_files} | set(superseded))
    rows = {}
    for dataset in datasets:
        mine = [f for f in new_files if f.dataset == dataset]
        rows[dataset] = DatasetRows(
            added=sum(f.rows_loaded for f in mine if f.rows_accepted),
            superseded=superseded.get(dataset, 0),
            withdrawn=sum(f.rows_loaded for f in mine if f.withdrawal),
            rejected=sum(f.rows_total for f in mine if f.status == STATUS_REJECTED))
    return rows


def page_changes(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """Pages (``.html`` files of two builds' file lists) added and removed, as site addresses."""
    def pages(files: list[str]) -> set[str]:
        return {page_address(f) for f in files if f.endswith(".html")}

    old, new = pages(before), pages(after)
    return sorted(new - old), sorted(old - new)


def page_address(relative: str) -> str:
    if relative == "index.html":
        return "/"
    if relative.endswith("/index.html"):
        return "/" + relative[:-len("index.html")]
    return "/" + relative


# --- Anomalies -----------------------------------------------------------------------------

def _sort_time(received_at: str) -> datetime:
    return datetime.fromisoformat(received_at)


def previous_file(file: ReceivedFile, files: list[ReceivedFile]) -> ReceivedFile | None:
    """The partner's accepted file of the same dataset received just before ``file``."""
    earlier = [f for f in files if f.partner == file.partner and f.dataset == file.dataset
               and f.rows_accepted and f.key != file.key
               and _sort_time(f.received_at) < _sort_time(file.received_at)]
    return max(earlier, key=lambda f: _sort_time(f.received_at), default=None)


def _moved_too_far(move: FigureMove, rules: PublicationRules) -> bool:
    change = move.change
    if change is None or move.before is None or abs(move.before) < rules.min_previous_value:
        return False
    if change < -rules.max_figure_drop:
        return True
    return rules.max_figure_rise is not None and change > rules.max_figure_rise


def _who_sent(move: FigureMove, new_files: list[ReceivedFile],
              scopes: dict[str, set[str] | None]) -> tuple[str, ...]:
    """The partners whose new files of the move's dataset may report for its commune
    (``scopes``: partner -> communes, None for every commune)."""
    senders = {f.partner for f in new_files if f.dataset == move.dataset
               and f.status != STATUS_REJECTED}
    return tuple(sorted(p for p in senders
                        if scopes.get(p) is None or move.commune in scopes[p]))


def find_anomalies(moves: list[FigureMove], new_files: list[ReceivedFile],
                   all_files: list[ReceivedFile], rules: PublicationRules,
                   scopes: dict[str, set[str] | None] | None = None) -> list[Anomaly]:
    """What makes a publication wait for a steward: a commune's figure moving by more than
    the rules allow against the live site (live values under ``min_previous_value``, zero,
    withheld or absent are not judged; the limits themselves do not count as more), and a new
    accepted file with fewer rows than ``min_file_share`` of the same partner's previous
    accepted file of the same dataset."""
    scopes = scopes or {}
    found = []
    for move in moves:
        if _moved_too_far(move, rules):
            found.append(Anomaly("chiffre", (
                f"{move.commune_name} : {_indicator_label(move.indicator)} "
                f"({_dataset_title(move.dataset)} {move.year}) passe de {_number(move.before)} "
                f"à {_number(move.after)} ({_signed_percent(move.change)})."),
                _who_sent(move, new_files, scopes)))
    for file in new_files:
        if not file.rows_accepted:
            continue
        before = previous_file(file, all_files)
        if before and before.rows_total > 0 and \
                file.rows_total < rules.min_file_share * before.rows_total:
            found.append(Anomaly("fichier", (
                f"Le fichier « {file.name} » de {file.partner} ({_dataset_title(file.dataset)}) "
                f"a {_number(file.rows_total)} lignes contre {_number(before.rows_total)} "
                f"dans son précédent fichier « {before.name} » (moins de "
                f"{percent(rules.min_file_share, 0)})."), (file.partner,)))
    return found


# --- French text ---------------------------------------------------------------------------

def _dataset_title(dataset: str) -> str:
    return DATASETS[dataset].title if dataset in DATASETS else dataset


def _indicator_label(indicator: str) -> str:
    return BY_ID[indicator].label if indicator in BY_ID else indicator


def _number(value: float | None) -> str:
    if value is None:
        return "non publié"
    return number(value, 0 if float(value).is_integer() else 1)


def _signed_percent(change: float | None) -> str:
    if change is None:
        return "variation non calculable"
    return ("+" if change > 0 else "") + percent(change, 1)


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= LISTED:
        return lines
    return lines[:LISTED] + [f"- … et {len(lines) - LISTED} autres"]


def _plural(count: int, one: str, many: str) -> str:
    return f"{number(count)} {one if count <= 1 else many}"


def summary_text(summary: ChangeSummary) -> str:
    """The summary in French, as Markdown lists (shown in Airflow's approval form)."""
    live = (f"comparée à la version en ligne {summary.live_build_id}" if summary.live_build_id
            else "première publication : aucune version en ligne à comparer")
    lines = [f"Publication {summary.build_id}, {live}.", ""]
    if summary.anomalies:
        lines += ["À vérifier avant la mise en ligne :"]
        lines += _capped([f"- {a.message}" + (f" (partenaire : {', '.join(a.partners)})"
                                               if a.partners else "")
                          for a in summary.anomalies])
        lines.append("")
    lines.append(f"Fichiers reçus depuis la version en ligne : {number(len(summary.files))}")
    lines += _capped([f"- {f.partner} : « {f.name} » ({_dataset_title(f.dataset)}, "
                      f"{STATUS_LABELS.get(f.status, f.status)}, "
                      f"{_plural(f.rows_total, 'ligne', 'lignes')})" for f in summary.files])
    lines += ["", "Lignes par jeu de données :"]
    lines += [f"- {_dataset_title(d)} : {number(r.added)} ajoutées, {number(r.superseded)} "
              f"remplacées, {number(r.withdrawn)} retirées, {number(r.rejected)} refusées"
              for d, r in summary.rows.items()] or ["- aucune"]
    lines += ["", f"Pages : {number(len(summary.pages_added))} ajoutées, "
                  f"{number(len(summary.pages_removed))} retirées"]
    lines += _capped([f"- ajoutée : {p}" for p in summary.pages_added]
                     + [f"- retirée : {p}" for p in summary.pages_removed])
    lines += ["", "Chiffres clés qui changent, par commune :"]
    lines += _capped([
        f"- {m.commune_name}, {_dataset_title(m.dataset)} {m.year}, "
        f"{_indicator_label(m.indicator)} : {_number(m.before)} → {_number(m.after)}"
        + (f" ({_signed_percent(m.change)})" if m.change is not None else "")
        for m in sorted(summary.moves, key=lambda m: -abs(m.change or 0))]) or ["- aucun"]
    return "\n".join(lines) + "\n"


# --- Storage and history -------------------------------------------------------------------

def publications_folder(paths: DataPaths | None = None) -> Path:
    """``<site>/publications``: beside ``builds/`` and never served."""
    return (paths or data_paths()).site_root / "publications"


def records_folder(paths: DataPaths | None = None):
    """Where the publication records are kept: ``publications_folder`` in the data folder, or,
    when the site is published to an object store (``INCLUSION_SITE_STORE_URL``), the prefix
    ``<site>/publications/`` there (an ``ObjectStoragePath``), so that every worker reads and
    updates the same records: a build prepared on one worker is approved, set aside or put
    online on another, and the next build anywhere compares with the live one's figures."""
    from publish import bucket

    if bucket.is_remote():
        from pipeline import storage

        return storage.area("site") / "publications"
    return publications_folder(paths)


# A record on the object store is one whole object, written in one PUT (never half written);
# a status change is written only if the record is still the version read (``If-Match``).
STATUS_TRIES = 5


def _on_store(path) -> bool:
    return hasattr(path, "fs")  # an ObjectStoragePath; a pathlib.Path has no file system


def _read_text(path) -> str | None:
    if _on_store(path):
        path.fs.invalidate_cache(path.path)
        try:
            return path.fs.cat_file(path.path).decode("utf-8")
        except FileNotFoundError:
            return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _write_text(path, text: str, content_type: str) -> None:
    if _on_store(path):
        path.fs.pipe_file(path.path, text.encode("utf-8"), ContentType=content_type)
        path.fs.invalidate_cache(path.path)
    else:
        write_atomically(path, text)


def _record_ids(folder) -> list[str]:
    if _on_store(folder):
        from pipeline.storage.objects import list_objects

        names = [o.name for o in list_objects(folder) if "/" not in o.name]
    else:
        names = [p.name for p in folder.glob("*.json")]
    return sorted(n[:-len(".json")] for n in names
                  if n.endswith(".json") and not n.endswith(".chiffres.json"))


def _remove(path) -> None:
    if _on_store(path):
        try:
            path.fs.rm_file(path.path)
        except FileNotFoundError:
            pass
        path.fs.invalidate_cache(path.path)
    else:
        path.unlink(missing_ok=True)


def _record(folder: Path, build_id: str) -> Path:
    return folder / f"{build_id}.json"


def _figures_file(folder: Path, build_id: str) -> Path:
    return folder / f"{build_id}.chiffres.json"


def write_publication(folder: Path, summary: ChangeSummary, figures: dict[str, float],
                      known_files: list[str], status: str, when: datetime) -> str:
    """Write the build's key figures, its summary (JSON and French text) and its status;
    returns the text. The record itself last: a build's record is never without its figures."""
    if not _on_store(folder):
        folder.mkdir(parents=True, exist_ok=True)
    text = summary_text(summary)
    _write_text(_figures_file(folder, summary.build_id), json.dumps(
        {"figures": figures, "files": sorted(known_files)}, ensure_ascii=False,
        sort_keys=True), "application/json")
    _write_text(folder / f"{summary.build_id}.txt", text, "text/plain; charset=utf-8")
    _write_text(_record(folder, summary.build_id), json.dumps(
        {**summary.as_dict(), "status": status, "built_at": when.isoformat(), "text": text,
         "decision": None}, ensure_ascii=False, indent=1), "application/json")
    return text


def read_figures(folder: Path, build_id: str) -> tuple[dict[str, float], set[str]] | None:
    """A build's key figures and the ledger files it knew, if recorded."""
    try:
        stored = json.loads(_read_text(_figures_file(folder, build_id)) or "")
    except ValueError:
        return None
    return stored["figures"], set(stored["files"])


def read_publication(folder: Path, build_id: str) -> dict | None:
    try:
        return json.loads(_read_text(_record(folder, build_id)) or "")
    except ValueError:
        return None


def set_status(folder: Path, build_id: str, status: str, decision: str | None = None) -> dict:
    """Record a publication's new status (and the steward's decision, in French). On the
    object store, the record is rewritten only if no other worker changed it since it was
    read (``If-Match``), else read again and the change applied to the new version."""
    for _attempt in range(STATUS_TRIES if _on_store(folder) else 1):
        seen = _seen_version(_record(folder, build_id))
        record = read_publication(folder, build_id)
        if record is None:
            raise FileNotFoundError(f"aucun relevé de la publication {build_id} dans {folder}")
        record["status"] = status
        if decision is not None:
            record["decision"] = decision
        data = json.dumps(record, ensure_ascii=False, indent=1)
        if not _on_store(folder):
            write_atomically(_record(folder, build_id), data)
            return record
        from pipeline.storage.objects import replace_if_unchanged

        if seen is not None and replace_if_unchanged(_record(folder, build_id),
                                                     data.encode("utf-8"), seen):
            return record
    raise RuntimeError(f"le relevé de la publication {build_id} a changé {STATUS_TRIES} fois "
                       "pendant sa mise à jour par un autre poste ; réessayez")


def _seen_version(path) -> str | None:
    """The ETag of a record on the object store (None: none there, or a local file)."""
    if not _on_store(path):
        return None
    from pipeline.storage.objects import stat_object

    found = stat_object(path)
    return found.etag if found else None


def prune_history(folder: Path, keep: int, protect: set[str]) -> None:
    """Keep the records of the last ``keep`` publications, and those of ``protect`` (the live
    build's figures are what the next publication compares with)."""
    ids = _record_ids(folder)
    for stale in ids[:-keep]:
        if stale not in protect:
            for path in (_record(folder, stale), _figures_file(folder, stale),
                         folder / f"{stale}.txt"):
                _remove(path)


def decision_text(decision: dict | None) -> str | None:
    """A steward's answer in Airflow (options chosen, who, when, why) in French."""
    if not decision:
        return None
    text = f"« {', '.join(decision.get('options', []))} »"
    if decision.get("par"):
        text += f" par {decision['par']}"
    if decision.get("le"):
        text += f" le {decision['le'][:16].replace('T', ' à ')}"
    if decision.get("motif"):
        text += f", motif : {decision['motif']}"
    return text


def recent_publications(n: int = 10, paths: DataPaths | None = None) -> list[dict]:
    """The last ``n`` publications, newest first, as plain dicts for a steward's view:
    ``build_id``, ``status`` and ``status_label`` (French), ``built_at``, ``decision``,
    ``live_build_id`` (what it was compared with), ``files``, ``rows``, ``pages_added``,
    ``pages_removed``, ``anomalies`` (French messages and partners), ``text`` (the summary)."""
    folder = records_folder(paths)
    if not _on_store(folder) and not folder.is_dir():
        return []
    ids = sorted(_record_ids(folder), reverse=True)
    found = []
    for build_id in ids:
        record = read_publication(folder, build_id)
        if record is None:
            continue
        found.append({
            "build_id": build_id, "status": record["status"],
            "status_label": STATUS_NAMES.get(record["status"], record["status"]),
            "built_at": record.get("built_at"), "decision": record.get("decision"),
            "live_build_id": record.get("live_build_id"), "files": record["files"],
            "rows": record["rows"], "pages_added": record["pages_added"],
            "pages_removed": record["pages_removed"], "anomalies": record["anomalies"],
            "text": record["text"]})
        if len(found) == n:
            break
    return found
