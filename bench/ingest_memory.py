"""Peak memory of ingesting the largest files the pipeline accepts, each in its own process.

    .venv/bin/python -m bench.ingest_memory [--scale 1]

At scale 1: a CSV of passes at the CSV size limit (``INCLUSION_MAX_CSV_MB``, 300 MB), an XLSX
of passes just under the workbook guards (400 MB unpacked, or ``INCLUSION_MAX_XLSX_MB``), and
a workbook formatted to its last cell (styled header row across all 16,384 columns, a styled
cell at XFD1048576, so it declares A1:XFD1048576). Smaller scales shrink the files (the
benchmark's own test runs at 1/500). Each file goes through ``pipeline.ingest.flow.process_files``
in a child process whose peak resident memory comes from ``wait4`` (the kernel's figure, not
an estimate; the child keeps the high-water mark that ``pipeline.stages`` resets per stage).
The requirement: under 1 GB whatever the file (``TARGET_MB``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest_throughput import write_passes

TARGET_MB = 1024
CSV_BYTES_PER_ROW = 66  # write_passes' rows, measured
XLSX_UNPACKED_PER_ROW = 462  # sheet XML and shared strings of one pass row, measured
PARTNER = "operateur-pass"


def _limits() -> tuple[float, float]:
    """CSV size limit and the workbook's unpacked limit, in MB. For a workbook the unpacked
    guard binds first: sheet XML packs about fifteen to one, so 400 MB unpacked weigh ~25 MB,
    under ``INCLUSION_MAX_XLSX_MB``."""
    from pipeline import settings
    from pipeline.read.reading import MAX_XLSX_UNPACKED_BYTES

    return settings.get("INCLUSION_MAX_CSV_MB"), MAX_XLSX_UNPACKED_BYTES / 1e6


def write_csv(path: Path, megabytes: float) -> int:
    rows = max(1000, int(megabytes * 1e6 * 0.98 / CSV_BYTES_PER_ROW))
    write_passes(path, rows)
    return rows


def _pass_values(number: int) -> list:
    return [f"PN-{number:08d}", f"C-{number // 10:07d}", 10, f"{number % 28 + 1:02d}/03/2026",
            "CCAS", "91477", f"{number % 28 + 1:02d}/05/2026", "lieu-91477-01"]


PASS_HEADER = ["numero_pass", "numero_carnet", "valeur_euros", "date_distribution",
               "prescripteur", "commune", "date_utilisation", "lieu_utilisation"]


def write_xlsx(path: Path, unpacked_mb: float) -> int:
    """Passes in a workbook that unpacks to about ``unpacked_mb`` (the guards' limit)."""
    from openpyxl import Workbook

    rows = max(1000, int(unpacked_mb * 1e6 * 0.9 / XLSX_UNPACKED_PER_ROW))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Pass")
    sheet.append(PASS_HEADER)
    for number in range(rows):
        sheet.append(_pass_values(number))
    workbook.save(path)
    return rows


def write_formatted_xlsx(path: Path, rows: int) -> int:
    """A workbook as a spreadsheet leaves it when whole rows and columns are formatted: the
    header row styled across every column and the last cell of the sheet styled, so that it
    declares A1:XFD1048576 (the reading that took 1.9 GB and 7 minutes for 3 MB)."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Pass"
    sheet.append(PASS_HEADER)
    for number in range(rows):
        sheet.append(_pass_values(number))
    fill = PatternFill("solid", fgColor="FFFF00")
    for column in range(len(PASS_HEADER) + 1, 16_385):
        sheet.cell(row=1, column=column).fill = fill
    sheet.cell(row=1_048_576, column=16_384).fill = fill
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    return rows


def _child(path: Path) -> None:
    """In the child process: ingest one file into a throw-away data folder."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["INCLUSION_DATA"] = folder
        os.environ["INCLUSION_SETTLE_SECONDS"] = "0"
        from pipeline import stages

        # Each stage resets the kernel's high-water mark (/proc/self/clear_refs), which is also
        # what wait4 reports at exit: keep it for the whole process, so the parent sees the
        # peak of the whole ingestion, not of its last stage.
        stages._reset_peak = lambda: None
        from pipeline.ingest.flow import process_files

        inbox = Path(folder) / "inbox" / PARTNER
        inbox.mkdir(parents=True)
        target = inbox / path.name
        shutil.copyfile(path, target)  # the inbox file is moved away once ingested
        outcome = process_files([(PARTNER, str(target))])[0]
    print(json.dumps({"status": outcome.status, "rows": outcome.rows_loaded,
                      "errors": outcome.errors}))


def measure(path: Path) -> dict:
    """Ingest ``path`` in a child process: its wall time and peak resident memory."""
    env = {k: v for k, v in os.environ.items() if k not in ("INCLUSION_TERRITORY",
                                                           "INCLUSION_STAGE_LOG")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bench.ingest_memory", "--child",
                                str(path)], stdout=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read().decode()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"l'ingestion de {path.name} a échoué : {output}")
    return {"file_mb": round(path.stat().st_size / 1e6, 1), **json.loads(output.splitlines()[-1]),
            "seconds": round(time.perf_counter() - started, 1),
            "peak_mb": round(usage.ru_maxrss / 1024, 1)}


def run(scale: float = 1.0, folder: Path | None = None) -> dict:
    """The three files at ``scale`` times the limits, each ingested in its own process."""
    csv_mb, xlsx_unpacked_mb = _limits()
    with tempfile.TemporaryDirectory(dir=folder) as work:
        work_path = Path(work)
        files = {
            "csv": (work_path / "pass_limite.csv", lambda p: write_csv(p, csv_mb * scale)),
            "xlsx": (work_path / "pass_limite.xlsx",
                     lambda p: write_xlsx(p, xlsx_unpacked_mb * scale)),
            "xlsx_formatted": (work_path / "pass_mis_en_forme.xlsx",
                               lambda p: write_formatted_xlsx(p, max(200, int(20_000 * scale)))),
        }
        results = {}
        for name, (path, write) in files.items():
            write(path)
            results[name] = measure(path)
            path.unlink()
    results["target_mb"] = TARGET_MB
    results["peak_mb"] = max(r["peak_mb"] for r in results.values() if isinstance(r, dict))
    return results


LABELS = {"csv": "largest CSV accepted", "xlsx": "largest XLSX accepted",
          "xlsx_formatted": "XLSX formatted to XFD1048576"}


def format_table(results: dict) -> str:
    lines = ["| file (ingested alone, child process) | size (MB) | rows | wall time (s) "
             "| peak memory (MB) |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, label in LABELS.items():
        r = results[name]
        lines.append(f"| {label} | {r['file_mb']:.1f} | {r['rows']:,} | {r['seconds']:.1f} "
                     f"| {r['peak_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    results = run(args.scale)
    print(format_table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
