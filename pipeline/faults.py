"""Named points where the crash-safety tests kill the process (SIGKILL).

With ``INCLUSION_FAULT_PAUSE=<point>``, reaching that point writes the process id to the file
named by ``INCLUSION_FAULT_MARKER`` and waits to be killed. Unset (always, in production), a
fault point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time

from pipeline import settings


def fault_point(name: str) -> None:
    if settings.get("INCLUSION_FAULT_PAUSE") != name:
        return
    settings.get("INCLUSION_FAULT_MARKER").write_text(str(os.getpid()))
    time.sleep(600)
