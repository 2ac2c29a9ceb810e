"""Named points where the crash-safety tests and the cluster's drills stop a process.

With ``INCLUSION_FAULT_PAUSE=<point>``, the first process to reach that point creates the file
named by ``INCLUSION_FAULT_MARKER`` (exclusively: of several workers armed alike, only one
pauses), writes its process id and its worker name into it (one per line) and waits, at most
600 s, to be killed (SIGKILL) or released: a test releases it by emptying the marker. A process
that finds the marker already there goes on at once, so a retry of the killed task, or another
worker, is not held. Unset (always, in production), a fault point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from pipeline import settings

PAUSE_SECONDS = 600
POLL_SECONDS = 0.2


def fault_point(name: str) -> None:
    if settings.get("INCLUSION_FAULT_PAUSE") != name:
        return
    marker: Path = settings.get("INCLUSION_FAULT_MARKER")
    mine = f"{os.getpid()}\n{settings.get('INCLUSION_WORKER_NAME') or socket.gethostname()}\n"
    try:
        descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return  # another process paused here first
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(mine)
    deadline = time.monotonic() + PAUSE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        try:
            if marker.read_text(encoding="utf-8") != mine:
                return  # released
        except FileNotFoundError:
            return


def paused(marker: Path) -> tuple[int, str] | None:
    """(process id, worker name) of the process paused at a fault point, once it wrote them;
    None before."""
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 2:
        return None
    return int(lines[0]), lines[1]


def release(marker: Path) -> None:
    """Let the paused process go on; the marker stays, so no other process pauses there."""
    marker.write_text("", encoding="utf-8")
