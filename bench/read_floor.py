"""The read stage beside its floor, measured in one run on the same files:

- the project's read: ``screen`` of each file (``stage("read")`` of the pipeline: encoding,
  delimiter, row widths, header mapping, French dates and numbers, communes, privacy screen);
- the floor: the raw columnar read of the same files with no conversion at all: polars'
  CSV reader, every column as text, the file decoded to UTF-8 first when it is not (polars
  reads only UTF-8); for a workbook, calamine's raw values (``python-calamine``).

The floor must find what the project found: the same rows (filled ones), the same columns
and, for a CSV, the same raw cells (a hash of every cell as written, compared with the cells
the project's reader parsed), so that it cannot win by leaving work out.

    .venv/bin/python -m bench.read_floor --scale 0.2
    .venv/bin/python -m bench.read_floor --archive <data folder>   # files already there
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import thousands as _n

TARGET_ROWS_PER_S = 250_000
TARGET_RATIO = 5.0


def _digest(rows) -> str:
    """Hash of the cells, row by row, blanks (missing or spaces only) as empty."""
    digest = hashlib.sha256()
    for row in rows:
        cells = ["" if cell is None or not str(cell).strip() else str(cell) for cell in row]
        if any(cells):
            digest.update("\x1f".join(cells).encode() + b"\x1e")
    return digest.hexdigest()


def _filled(rows) -> int:
    return sum(1 for row in rows if any(cell is not None and str(cell).strip() for cell in row))


def project_read(files: list, territory) -> dict:
    """The read stage of the pipeline on each file, timed; a file larger than one chunk is
    left out (the pipeline reads it chunk by chunk with its validation)."""
    from pipeline.ingest.screen import screen

    kept = []
    for partner, path in files:
        started = time.perf_counter()
        exam = screen(path, territory.partner(partner), territory)
        seconds = time.perf_counter() - started
        if exam.read is not None and exam.large is None:
            kept.append((path, exam.dataset, exam.read.encoding, exam.read.delimiter,
                         exam.rows, seconds))
    return kept


def project_cells(path: Path, dataset: str) -> tuple[int, int, str | None]:
    """Columns, filled rows and (CSV) the hash of the raw cells the project's reader parsed,
    outside the timing."""
    from pipeline.read.reading import read_cells

    cells, encoding, _delimiter = read_cells(path, dataset)
    rows = list(cells.itertuples(index=False, name=None))
    # A workbook's values come converted as openpyxl gave them: counted, not hashed.
    return cells.shape[1], _filled(rows), None if encoding is None else _digest(rows)


def _floor_csv(path: Path, encoding: str, delimiter: str):
    import polars as pl

    raw = path.read_bytes()
    if encoding == "utf-8-sig":
        raw = raw[3:]
    elif encoding != "utf-8":
        raw = raw.decode(encoding).encode()
    return pl.read_csv(raw, separator=delimiter, infer_schema=False, has_header=True,
                       truncate_ragged_lines=True, raise_if_empty=False)


def _floor_xlsx(path: Path) -> list:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        return workbook.get_sheet_by_name(workbook.sheet_names[0]).to_python()
    finally:
        workbook.close()


def floor_read(kept: list) -> tuple[list[float], list]:
    """The raw read of each file the project read, timed; then what it found, untimed."""
    import polars  # noqa: F401  (imported before the clock starts, as the project's modules are)
    import python_calamine  # noqa: F401

    seconds, read = [], []
    for path, _dataset, encoding, delimiter, _rows, _seconds in kept:
        started = time.perf_counter()
        frame = _floor_xlsx(path) if encoding is None else _floor_csv(path, encoding, delimiter)
        seconds.append(time.perf_counter() - started)
        read.append(frame)
    found = []
    for frame in read:
        if isinstance(frame, list):  # workbook: header row, then the rows
            width = max((n + 1 for n, v in enumerate(frame[0]) if str(v).strip()), default=0)
            found.append((width, _filled(row[:width] for row in frame[1:]), None))
        else:
            rows = list(frame.iter_rows())
            found.append((frame.width, _filled(rows), _digest(rows)))
    return seconds, found


def read_ratio(files: list, folder: Path, territory_path: Path) -> dict:
    """The project's read and its floor on copies of the same files (under the names their
    partners gave them); raises if the floor did not find the same cells."""
    from bench.load_floor import _drop
    from pipeline.config import load_territory

    shutil.rmtree(folder, ignore_errors=True)
    territory = load_territory(territory_path)
    dropped = [(partner, Path(path)) for partner, path in _drop(files, folder / "inbox")]
    project = project_read(dropped, territory)
    floor_seconds, floor_found = floor_read(project)
    for (path, dataset, *_rest), found in zip(project, floor_found):
        expected = project_cells(path, dataset)
        if found != expected:
            raise AssertionError(f"plancher : pas les mêmes cases que le projet pour {path.name} "
                                 f"(colonnes, lignes, empreinte : {found} contre {expected})")
    shutil.rmtree(folder, ignore_errors=True)
    result = {"label": "Lecture / lecture colonnaire brute (mêmes fichiers, mêmes cases)"}
    details = []
    for kind, wanted in (("", lambda encoding: True), ("csv_", lambda e: e is not None),
                         ("xlsx_", lambda e: e is None)):
        chosen = [n for n, kept in enumerate(project) if wanted(kept[2])]
        rows = sum(project[n][4] for n in chosen)
        seconds = sum(project[n][5] for n in chosen)
        floor_s = sum(floor_seconds[n] for n in chosen)
        if not rows:
            continue
        result |= {f"{kind}files": len(chosen), f"{kind}rows": rows,
                   f"{kind}read_s": round(seconds, 3), f"{kind}floor_s": round(floor_s, 3),
                   f"{kind}rows_per_s": round(rows / seconds),
                   f"{kind}floor_rows_per_s": round(rows / floor_s),
                   f"{kind}ratio": seconds / floor_s}
        details.append(f"{kind.rstrip('_') or 'tous'} : {len(chosen)} fichier"
                       f"{'s' if len(chosen) > 1 else ''}, {_n(rows)} lignes, "
                       f"lecture {seconds:.2f} s ({_n(rows / seconds)} lignes/s), plancher "
                       f"{floor_s:.2f} s ({_n(rows / floor_s)} lignes/s), {seconds / floor_s:.2f}×")
    result["detail"] = (" ; ".join(details) + f" ; cible ≥ {_n(TARGET_ROWS_PER_S)} lignes/s et "
                        f"≤ {TARGET_RATIO:g}× (plancher : polars pour les CSV, calamine pour les "
                        "XLSX)")
    return result | {"target_rows_per_s": TARGET_ROWS_PER_S, "target_ratio": TARGET_RATIO}


def main() -> None:
    from demo.national_data import NationalWriter, Scale
    from pipeline.config import DEFAULT_TIMEZONE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05,
                        help="fraction des volumes nationaux (défaut : 0,05)")
    parser.add_argument("--archive", type=Path, default=None,
                        help="dossier de données déjà rempli (archive/<partenaire>/<fichier> et "
                             "territory.toml), par exemple celui de make bench ; lu, jamais modifié")
    parser.add_argument("--every", type=int, default=1, help="un fichier sur N (défaut : tous)")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/inclusion-plancher-lecture"),
                        help="dossier de travail (effacé au départ)")
    args = parser.parse_args()
    folder = args.folder.resolve()
    shutil.rmtree(folder, ignore_errors=True)
    if args.archive:
        from bench.load_floor import archived_files

        files, territory = archived_files(args.archive, args.every), args.archive / "territory.toml"
    else:
        source = folder / "source"
        print(f"==> Données synthétiques (échelle {args.scale:g}) dans {source}", flush=True)
        writer = NationalWriter(source, Scale().times(args.scale),
                                datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())
        writer.write_all()
        files = [(path.parent.name, path) for path in sorted(writer.files)][::args.every]
        territory = source / "territory.toml"
    print("==> Lecture par le projet, puis lecture colonnaire brute des mêmes fichiers",
          flush=True)
    result = read_ratio(files, folder / "mesure", territory)
    print(f"{result['label']} : {result['ratio']:.2f}× ({result['detail']})")
    (folder / "read_floor.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                            encoding="utf-8")


if __name__ == "__main__":
    main()
