"""The rest of a large site plan written by two processes, one per core.

A national build renders some 270,000 files in one Python thread, and the machine has two
cores. Once a plan has written ``INCLUSION_SITE_SPLIT_AFTER`` items and is not finished,
``write_plan`` forks: the child starts from the very same point of the plan (a fork copies
the generator's state), both walk every remaining item, and each writes its own blocks of
``BLOCK`` consecutive items (neighbours share folders, so each process mostly creates its own
directories). QR files stay with the parent, whose ``pages.qr_drawing.QrDrawer`` draws them.
Small sites, the demo and most tests never reach the split and build as before.

Every item is written by exactly one of the two, with the same code and the same inputs, so
the build is the same bytes whichever process wrote a file. Both processes claim every path
(``write_plan``'s duplicate check sees the whole plan) and count every page. The child sends
back what its share adds to the build cache (fingerprints, reused paths, memoised texts) and
its log records; the parent merges them before the build is checked. A child that fails, or
dies, fails the build like any other rendering error: ``current`` does not change.

Fork rather than spawn: a second interpreter would have to load the whole site data again
(hundreds of MB, tens of seconds). The child never runs the parent's atexit handlers or
finalisers (``os._exit``), never writes to the parent's log handlers (Airflow's task log
goes through a socket it must not share), and dies with the parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline import settings

LOG = logging.getLogger(__name__)
BLOCK = 64  # consecutive items written by the same process
_PR_SET_PDEATHSIG = 1


def split_after() -> int:
    """Items written in one process before the rest is shared; 0: never split."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return 0
    return settings.get("INCLUSION_SITE_SPLIT_AFTER")


def write_items(plan: Iterable, write: Callable[[object], None], drawer, cache=None,
                each: Callable[[object], None] | None = None) -> None:
    """``write`` each item of ``plan``, sharing the items past ``split_after()`` with a forked
    second process; ``each`` runs for every item in both processes (path claims, counts).
    Returns once every item is written (QR files by ``drawer``, a ``QrDrawer``) and the
    child's share is merged into ``cache``; raises the first error of either process."""
    split_at, split = split_after(), None
    try:
        for index, item in enumerate(plan):
            if index == split_at and split_at:
                split = PlanSplit.fork(cache, index, drawer)
            if each is not None:
                each(item)
            if split is None or split.mine(index, item):
                write(item)
        if split is not None and split.is_child:
            split.child_done()
        if split is not None:  # before the drawer: the child may hold its pipe until it ends
            split.join()
        drawer.finish()
    except BaseException as error:
        if split is not None and split.is_child:
            split.child_done(error)
        if split is not None:
            split.abandon()
        drawer.abandon()
        raise


@dataclass
class _Share:
    """What the child's items add to the build cache, and what it logged."""
    keys: dict[str, str] = field(default_factory=dict)
    memo: dict[str, str] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)
    records: list[tuple[str, int, str]] = field(default_factory=list)
    error: BaseException | None = None
    error_text: str | None = None


class _Collector(logging.Handler):
    def __init__(self, records: list) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


class PlanSplit:
    """One side of a split plan. ``fork`` returns it in both processes (``is_child`` tells
    which); ``mine`` says which items this side writes."""

    def __init__(self, cache, start: int, pid: int, reader: int | None,
                 writer: int | None) -> None:
        self.cache = cache
        self.start = start
        self.pid = pid  # the child's, in the parent; 0 in the child
        self.reader, self.writer = reader, writer
        self.is_child = pid == 0
        self.records: list[tuple[str, int, str]] = []

    @classmethod
    def fork(cls, cache, start: int, drawer) -> PlanSplit | None:
        """Fork a second writer for the items from ``start`` on; None if it cannot."""
        reader, writer = os.pipe()
        gc.freeze()  # the child's collections then leave the shared objects' pages alone
        try:
            pid = os.fork()
        except OSError as error:
            gc.unfreeze()
            os.close(reader)
            os.close(writer)
            LOG.warning("Construction du site dans un seul processus : %s", error)
            return None
        if pid:
            os.close(writer)
            return cls(cache, start, pid, reader, None)
        os.close(reader)
        split = cls(cache, start, 0, None, writer)
        split._become_child(drawer)
        return split

    def mine(self, index: int, item) -> bool:
        if getattr(item, "qr", None) is not None:
            return not self.is_child
        return ((index - self.start) // BLOCK) % 2 == (1 if self.is_child else 0)

    def _become_child(self, drawer) -> None:
        parent = os.getppid()
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)
        for name in ("SIGTERM", "SIGINT", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        loggers = [logging.getLogger(), *(logger for logger in
                                          logging.Logger.manager.loggerDict.values()
                                          if isinstance(logger, logging.Logger))]
        for logger in loggers:
            logger.handlers = []
        logging.getLogger().addHandler(_Collector(self.records))
        drawer.forget()
        if self.cache is not None:  # only what this side adds is sent back
            self.cache.keys, self.cache.memo, self.cache.reused = {}, {}, set()

    def child_done(self, error: BaseException | None = None) -> None:
        """In the child: send its share (or its error) to the parent and exit."""
        share = _Share(records=self.records)
        if error is not None:
            share.error_text = "".join(traceback.format_exception(error))
            try:
                share.error = pickle.loads(pickle.dumps(error))
            except Exception:
                share.error = None
        elif self.cache is not None:
            share.keys, share.memo = self.cache.keys, self.cache.memo
            share.reused = self.cache.reused
        code = 0 if error is None else 1
        try:
            with os.fdopen(self.writer, "wb") as pipe:
                pickle.dump(share, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            code = 2
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def join(self) -> None:
        """In the parent: wait for the child and merge its share into the build cache;
        raise its error if it failed."""
        try:
            with os.fdopen(self.reader, "rb") as pipe:
                self.reader = None
                try:
                    share: _Share | None = pickle.load(pipe)
                except (EOFError, pickle.UnpicklingError):
                    share = None
        finally:
            status = self._reap()
        if share is None:
            raise RuntimeError(
                f"le second processus de construction du site s'est arrêté sans rendre sa "
                f"part (état {status}) ; le site en ligne n'a pas changé")
        for name, level, message in share.records:
            logging.getLogger(name).log(level, "%s", message)
        if share.error_text is not None:
            error = share.error or RuntimeError(
                "le second processus de construction du site a échoué")
            error.add_note("Dans le second processus de construction :\n" + share.error_text)
            raise error
        if self.cache is None:
            return
        self.cache.keys.update(share.keys)
        self.cache.memo.update(share.memo)
        self.cache.reused |= share.reused

    def abandon(self) -> None:
        """In the parent, when its own part failed: stop the child."""
        if self.reader is not None:
            os.close(self.reader)
            self.reader = None
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int:
        gc.unfreeze()
        if not self.pid:
            return 0
        _pid, status = os.waitpid(self.pid, 0)
        self.pid = 0
        return os.waitstatus_to_exitcode(status)
