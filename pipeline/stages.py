"""Wall time and peak memory of each pipeline stage (read, validate, load, indicators, site
build, publish), for the task logs and the national benchmark (``bench/national.py``).

Each stage is logged; when ``INCLUSION_STAGE_LOG`` names a file, one JSON line per stage is
appended to it. Peak memory is the process's resident high-water mark during the stage: Linux
lets a process reset it (``/proc/self/clear_refs``), so each stage gets its own peak.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import settings

log = logging.getLogger(__name__)
STAGE_LOG = "INCLUSION_STAGE_LOG"


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux, or not allowed: the peak is then the process's lifetime peak
        pass


def _peak_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def stage(name: str, **fields: object) -> Iterator[dict]:
    """Measure one stage; the caller may add counts (``rows``, ``pages``) to the yielded dict.
    Stages must not be nested: each resets the peak-memory mark."""
    record: dict = {"stage": name, **fields}
    _reset_peak()
    started = time.perf_counter()
    try:
        yield record
    finally:
        record["seconds"] = round(time.perf_counter() - started, 4)
        record["peak_mb"] = _peak_mb()
        log.info("étape %s : %s", name, record)
        target = settings.get(STAGE_LOG)
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
