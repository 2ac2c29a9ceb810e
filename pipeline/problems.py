"""What is wrong with a partner's file, in the partner's terms: one type from reading to report.

Every step that finds something to tell the partner (the reader, the partner's mapping, the
privacy screen, the Great Expectations suite, the cross-checks, a withdrawal) states it as a
``Problem``, and the report (``pipeline.report.reports``) renders them all the same way. It sits
below every step so that each of them may import it without importing another step.
"""

from __future__ import annotations

from dataclasses import dataclass

# A report lists at most this many lines per rule, then counts the rest: a file with a bad cell
# on each of its rows must still get a report a person can read.
MAX_DETAILS_PER_RULE = 50


@dataclass
class Problem:
    line: int | None  # the spreadsheet line; None for the whole file or a whole column
    column: str
    value: str  # as the partner wrote it, so that they can find the cell
    rule: str
    fix: str
    severity: str = "erreur"  # "erreur" rejects the file, "avertissement" only informs
    # How many lines this problem stands for: more than one for the lines of a rule beyond
    # those kept in detail (large files, pipeline.chunks); the report counts them.
    count: int = 1


def file_problem(rule: str, fix: str) -> Problem:
    """An error about the file as a whole (its size, its type, its encoding…)."""
    return Problem(None, "", "", rule, fix, "erreur")
