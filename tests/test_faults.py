"""pipeline/faults.py: a fault point does nothing unless it is the one named in the
environment; then it writes the process id and waits to be killed."""

from __future__ import annotations

import os

import pipeline.faults as faults


def test_unset_or_other_point_returns_at_once_without_writing(tmp_path, monkeypatch):
    marker = tmp_path / "pid"
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    monkeypatch.setenv("INCLUSION_FAULT_MARKER", str(marker))
    monkeypatch.delenv("INCLUSION_FAULT_PAUSE", raising=False)
    faults.fault_point("apres_commit")
    monkeypatch.setenv("INCLUSION_FAULT_PAUSE", "avant_bascule")
    faults.fault_point("apres_commit")
    assert not marker.exists() and slept == []


def test_the_named_point_writes_the_pid_then_waits(tmp_path, monkeypatch):
    marker = tmp_path / "pid"
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    monkeypatch.setenv("INCLUSION_FAULT_MARKER", str(marker))
    monkeypatch.setenv("INCLUSION_FAULT_PAUSE", "apres_commit")
    faults.fault_point("apres_commit")
    assert marker.read_text() == str(os.getpid())
    assert slept == [600]
