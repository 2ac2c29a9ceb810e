"""QR codes drawn in a second process while the site build renders its pages.

A national build draws some 70,000 QR codes (each upcoming workshop's poster, each venue's
print view): segno is pure Python, and the codes were a third of a full build's time, on one
core while the machine has two. ``QrWriter`` sends each code to a child process
(``python -m pages.qr_worker``, which imports segno and nothing of Airflow or pandas) through a
pipe, and a thread of the build writes each SVG file as it comes back, while the build's own
thread goes on rendering pages. The bytes are those of ``posters.qr_svg``: the same call, in
another process.

A small site's first codes are drawn in place (``INLINE_FIRST``): a process is not worth a
few dozen codes. ``close`` waits for the last file; a code the child could not draw, or a child
that died, fails the build (the live site stays as it was).
"""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path

from pages.posters import qr_svg
from pipeline.files import replace_file

INLINE_FIRST = 64
_SIZE = struct.Struct(">I")


class QrWorkerFailed(RuntimeError):
    pass


class QrWriter:
    def __init__(self, output: Path) -> None:
        self.output = output
        self.drawn_here = 0
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._sent: queue.SimpleQueue[str] = queue.SimpleQueue()  # paths, in the pipe's order
        self._error: BaseException | None = None

    def write(self, path: str, url: str, title: str) -> None:
        if self._process is None and (self.drawn_here < INLINE_FIRST or _one_core()):
            self.drawn_here += 1
            replace_file(self.output / path, qr_svg(url, title).encode("utf-8"))
            return
        if self._process is None:
            self._start()
        if self._error is not None:
            raise QrWorkerFailed(f"dessin des codes QR interrompu : {self._error}")
        self._sent.put(path)
        self._process.stdin.write(json.dumps([url, title]).encode("utf-8") + b"\n")

    def _start(self) -> None:
        # Unbuffered: each request reaches the child at once, the pipe itself holding back
        # the build when the child lags.
        self._process = subprocess.Popen([sys.executable, "-m", __name__], bufsize=0,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._thread = threading.Thread(target=self._receive, name="codes-qr", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        stream = self._process.stdout
        try:
            while header := stream.read(_SIZE.size):
                (size,) = _SIZE.unpack(header)
                replace_file(self.output / self._sent.get(), _read_exactly(stream, size))
        except BaseException as error:  # reported by write() or close(), in the build
            self._error = error

    def close(self) -> None:
        """Wait for every file sent; raise if one is missing."""
        if self._process is None:
            return
        self._process.stdin.close()
        self._thread.join()
        code = self._process.wait()
        if self._error is not None or code != 0 or not self._sent.empty():
            raise QrWorkerFailed(
                f"dessin des codes QR interrompu (processus fils : code {code}"
                + (f", {self._error}" if self._error else "") + ")")

    def abort(self) -> None:
        """The build failed elsewhere: stop the child without waiting for its codes."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _one_core() -> bool:
    return len(os.sched_getaffinity(0)) < 2


def _read_exactly(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("réponse tronquée du processus des codes QR")
    return data


def main() -> None:
    """The child: one JSON ``[url, title]`` per line in, each SVG out, its length first."""
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        url, title = json.loads(line)
        data = qr_svg(url, title).encode("utf-8")
        out.write(_SIZE.pack(len(data)) + data)
        out.flush()


if __name__ == "__main__":
    main()
