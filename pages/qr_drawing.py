"""QR code files of a build, drawn in a second process when there are many.

A national build draws some 68,000 QR codes (a tenth of its time) while it renders pages in
one Python thread; the machine has two cores. Past ``OFFLOAD_FROM`` codes, the build hands
them to ``python -m pages.qr_drawing``, which draws and writes each file (a new file renamed
into place, like every write of a build) while the build goes on with its pages. The files
are the same bytes whichever process draws them. If the second process cannot be started or
fails, the build draws what it had handed over itself: slower, never different.

Protocol: one JSON line per file on the child's standard input, ``[path, url, title]``; the
child exits 0 once every file is written.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from pages.posters import qr_svg
from pipeline.files import replace_file

LOG = logging.getLogger(__name__)

# Below this, starting a second Python (about 0.3 s) costs more than drawing in the build.
OFFLOAD_FROM = 1000
BATCH = 64  # files per write to the second process


def draw(path: str | Path, url: str, title: str) -> None:
    replace_file(path, qr_svg(url, title).encode("utf-8"))


class QrDrawer:
    """Collects the QR files a build writes; ``finish`` returns once all are written."""

    def __init__(self, offload_from: int | None = None,
                 command: list[str] | None = None) -> None:
        self.offload_from = OFFLOAD_FROM if offload_from is None else offload_from
        self.command = command or [sys.executable, "-m", "pages.qr_drawing"]
        self.waiting: list[tuple[str, str, str]] = []  # not handed over yet
        self.handed: list[tuple[str, str, str]] = []  # to the second process
        self.process: subprocess.Popen | None = None

    def add(self, path: str | Path, url: str, title: str) -> None:
        self.waiting.append((str(path), url, title))
        if self.process is None and len(self.waiting) >= self.offload_from:
            self._start()
        if self.process is not None and len(self.waiting) >= BATCH:
            self._hand_over()

    def finish(self) -> None:
        """Every file written: by the second process, or here where it could not."""
        if self.process is not None:
            self._hand_over()
        if self.process is not None:
            self._close()
        for item in self.waiting:
            draw(*item)
        self.waiting = []

    def abandon(self) -> None:
        """The build failed: stop the second process (the folder is thrown away)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def forget(self) -> None:
        """In a forked copy of the build (``pages.plan_split``): let go of the parent's second
        process without writing to it or waiting for it. Only the copy's end of the pipe is
        closed (not flushed: its buffer holds lines the parent sends itself), so the second
        process still ends when the parent closes its own; the object is kept so that no
        finaliser ever flushes it."""
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                os.close(self.process.stdin.fileno())
        self._forgotten, self.process = self.process, None
        self.waiting, self.handed = [], []
        self.offload_from = sys.maxsize

    def _start(self) -> None:
        try:
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                            stdout=subprocess.DEVNULL)
        except OSError as error:
            LOG.warning("Codes QR dessinés dans la construction : %s", error)
            self.offload_from = sys.maxsize

    def _hand_over(self) -> None:
        if self.process is None:
            return
        lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in self.waiting)
        try:
            self.process.stdin.write(lines.encode("utf-8"))
        except OSError:  # the second process is gone: the rest is drawn here
            self._close()
            return
        self.handed.extend(self.waiting)
        self.waiting = []

    def _close(self) -> None:
        process, self.process = self.process, None
        try:
            process.stdin.close()
        except OSError:
            pass
        if process.wait() != 0:
            LOG.warning("Le dessin des codes QR en parallèle a échoué (code %s) : la "
                        "construction les dessine elle-même", process.returncode)
            self.waiting = self.handed + self.waiting
        self.handed = []
        self.offload_from = sys.maxsize  # no second start within this build


def main() -> None:
    for line in sys.stdin.buffer:
        draw(*json.loads(line))


if __name__ == "__main__":
    main()
