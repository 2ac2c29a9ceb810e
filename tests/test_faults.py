"""pipeline/faults.py: a fault point does nothing unless it is the one named in the
environment; then the first process to reach it writes its pid and worker name and waits to be
killed or released, and any process after it goes on."""

from __future__ import annotations

import os

import pytest

import pipeline.faults as faults


@pytest.fixture
def armed(tmp_path, monkeypatch):
    marker = tmp_path / "pid"
    monkeypatch.setenv("INCLUSION_FAULT_MARKER", str(marker))
    monkeypatch.setenv("INCLUSION_WORKER_NAME", "travailleur-1")
    return marker


def test_unset_or_other_point_returns_at_once_without_writing(armed, monkeypatch):
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    monkeypatch.delenv("INCLUSION_FAULT_PAUSE", raising=False)
    faults.fault_point("apres_commit")
    monkeypatch.setenv("INCLUSION_FAULT_PAUSE", "avant_bascule")
    faults.fault_point("apres_commit")
    assert not armed.exists() and slept == []


def test_the_named_point_writes_pid_and_worker_then_waits_until_released(armed, monkeypatch):
    monkeypatch.setenv("INCLUSION_FAULT_PAUSE", "apres_commit")
    seen = []

    def sleep(seconds):  # the test's side: reads the marker, then releases the process
        seen.append(faults.paused(armed))
        if len(seen) == 3:
            faults.release(armed)
    monkeypatch.setattr(faults.time, "sleep", sleep)
    faults.fault_point("apres_commit")
    assert seen == [(os.getpid(), "travailleur-1")] * 3
    assert armed.exists() and faults.paused(armed) is None


def test_the_pause_ends_after_its_time_limit(armed, monkeypatch):
    monkeypatch.setenv("INCLUSION_FAULT_PAUSE", "apres_commit")
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(faults.time, "monotonic", lambda: next(clock))
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    faults.fault_point("apres_commit")
    assert len(slept) == faults.PAUSE_SECONDS // 100 - 1


def test_only_the_first_process_pauses(armed, monkeypatch):
    monkeypatch.setenv("INCLUSION_FAULT_PAUSE", "apres_commit")
    armed.write_text("4242\ntravailleur-2\n")  # another worker paused here first
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    faults.fault_point("apres_commit")
    assert slept == [] and faults.paused(armed) == (4242, "travailleur-2")
