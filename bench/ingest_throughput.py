"""Rows per second of read + validate + load for one partner file of N passes (default 1M).

    .venv/bin/python -m bench.ingest_throughput [rows]

Writes a synthetic voucher file in a throw-away data folder, runs the same
``pipeline.ingest.flow.process_files`` the DAG runs, and prints the figures (also as JSON).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path


def write_passes(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    communes = ["91477", "91377", "91471", "91272", "91312"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;"
                     "commune;date_utilisation;lieu_utilisation\n")
        for number in range(rows):
            booklet = number // 10
            month, day = rng.randint(1, 9), rng.randint(1, 28)
            used = rng.random() < 0.6
            handle.write(f"PN-{number:08d};C-{booklet:07d};10,00;{day:02d}/{month:02d}/2026;"
                         f"CCAS;{rng.choice(communes)};"
                         + (f"{day:02d}/{month + 2:02d}/2026;lieu-91477-01\n" if used else ";\n"))


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        os.environ["INCLUSION_DATA"] = folder
        os.environ["INCLUSION_SETTLE_SECONDS"] = "0"
        from pipeline.check.validation import _validation_definition
        from pipeline.ingest.flow import process_files

        _validation_definition("pass")  # GX's import (seconds) is paid once per worker process

        inbox = Path(folder) / "inbox" / "operateur-pass"
        inbox.mkdir(parents=True)
        path = inbox / "pass_numerique.csv"
        write_passes(path, rows)
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        outcome = process_files([("operateur-pass", str(path))])[0]
        elapsed = time.perf_counter() - started
    figures = {"rows": rows, "file_mb": round(size_mb, 1), "status": outcome.status,
               "seconds": round(elapsed, 1), "rows_per_second": round(rows / elapsed)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
