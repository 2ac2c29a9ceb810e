"""Each file's Great Expectations result, kept for stewards: which suite ran, how many of its
expectations it evaluated, which failed and on how many lines.

The suite runs on a batch of files at once (``pipeline.check.validation``); the failing rows are
handed back to their files as problems, and a file's result is summed up from its own share.
It is written when the file is recorded, one small JSON per file fingerprint under
``<data folder>/validations/<partner>/<sha256>.json``, and read back by the « Dépôts des
partenaires » view of Airflow (``pipeline.report.deposits``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.check.suites import load_suite
from pipeline.files import write_atomically
from pipeline.problems import Problem

# (column, rule, fix, severity): how a failing expectation reaches a file's problems.
RuleKey = tuple[str, str, str, str]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PARTNER = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str  # the GX expectation type, e.g. expect_column_values_to_not_be_null
    column: str
    rule: str  # the suite's French rule (its meta « regle »)
    severity: str  # "erreur" or "avertissement"
    lines: int  # lines of the file it failed on (1 for a rule about the whole file)


@dataclass(frozen=True)
class ValidationResult:
    suite: str
    dataset: str
    evaluated: int  # expectations of the suite evaluated on the file
    success: bool
    failed: tuple[FailedExpectation, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ValidationResult:
        raw = json.loads(text)
        return cls(suite=str(raw["suite"]), dataset=str(raw["dataset"]),
                   evaluated=int(raw["evaluated"]), success=bool(raw["success"]),
                   failed=tuple(FailedExpectation(**item) for item in raw["failed"]))


def rule_key(problem: Problem) -> RuleKey:
    return problem.column, problem.rule, problem.fix, problem.severity


def tally(problems: Iterable[Problem]) -> Counter[RuleKey]:
    """The suite's problems of a file counted by rule (a problem may stand for several lines)."""
    counts: Counter[RuleKey] = Counter()
    for problem in problems:
        counts[rule_key(problem)] += problem.count
    return counts


def summarise(dataset: str, counts: Counter[RuleKey]) -> ValidationResult:
    """A file's result from the suite's problems of that file, counted by rule: each failing
    expectation of the suite with its lines, in the suite's order."""
    suite = load_suite(dataset)
    failed = []
    for expectation in suite["expectations"]:
        meta = expectation.get("meta") or {}
        key = (meta.get("colonne", ""), meta.get("regle", ""), meta.get("correction", ""),
               meta.get("gravite", "erreur"))
        if counts.get(key):
            failed.append(FailedExpectation(expectation["type"], key[0], key[1], key[3],
                                            counts.pop(key)))
    return ValidationResult(
        suite=str(suite.get("name", dataset)), dataset=dataset,
        evaluated=len(suite["expectations"]),
        success=not any(f.severity == "erreur" for f in failed), failed=tuple(failed))


def result_path(root: Path, partner: str, sha256: str) -> Path:
    """Where a file's result is kept; ``ValueError`` for anything but a partner id and a
    SHA-256 in hexadecimal, so that no name from a request can lead out of the folder."""
    if not _PARTNER.match(partner) or not _SHA256.match(sha256):
        raise ValueError(f"not a partner id and file fingerprint: {partner!r}, {sha256!r}")
    return root / "validations" / partner / f"{sha256}.json"


def save(root: Path, partner: str, sha256: str, result: ValidationResult) -> Path:
    path = result_path(root, partner, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, result.to_json())
    return path


def load(root: Path, partner: str, sha256: str) -> ValidationResult | None:
    """The file's result, or None when the suite never ran on it (refused before: size,
    type, unreadable, personal data) or the name is not a fingerprint."""
    try:
        path = result_path(root, partner, sha256)
        return ValidationResult.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, OSError, KeyError, TypeError):
        return None
