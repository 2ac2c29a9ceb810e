"""The shape of a contract: columns, allowed values, cross-column rules and cross-file checks
(the contracts themselves are in ``pipeline.contracts.datasets`` and ``.venues``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal


def normalize_header(name: object) -> str:
    """``" Durée (minutes) "`` -> ``"duree_minutes"``: compare headers and file names without
    accents or case. Here, below every step, because receiving (a dataset named in a file
    name) and reading (headers) compare names the same way."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


ColumnType = Literal["text", "insee", "date", "time", "integer", "decimal", "choice",
                     "multichoice", "phone", "email", "url"]
Severity = Literal["erreur", "avertissement"]


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: ColumnType
    description: str
    example: str
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[Choice, ...] = ()
    # Required only for rows whose status is one of these codes (e.g. attendance once held).
    required_when_status: tuple[str, ...] = ()
    # Other headers partners' tools commonly export for this column (compared without case,
    # accents, spaces or punctuation).
    aliases: tuple[str, ...] = ()
    # A regular expression the canonical value must match (e.g. a postal code).
    pattern: str | None = None
    pattern_hint: str = ""
    max_length: int | None = None
    # Multi-valued columns (``multichoice``, several e-mails or URLs) hold ``|``-separated values.
    multiple: bool = False
    # Public contact details (a registration desk's phone) that may look like personal data;
    # phone, e-mail and web-address columns are public by nature.
    public_contact: bool = False
    # Descriptive lists (audiences, labels, access modes…) where a value outside the closed
    # list is dropped with a warning instead of refusing the file: losing one label misleads
    # no one, refusing a whole directory for it would keep every venue off the site.
    drop_unknown_choices: bool = False
    # Text that may run over several lines (a presentation). Any other text column is one
    # line: a line break inside a cell (tools export « 1 rue X\n\n\n\nLieu-dit ») reads
    # as one space, so that addresses and names stay one line on pages and in downloads.
    multiline: bool = False

    @property
    def choice_labels(self) -> list[str]:
        return [c.label for c in self.choices]


@dataclass(frozen=True)
class PairRule:
    """``smaller`` must be <= ``larger`` on every row where both are filled."""

    smaller: str
    larger: str
    message: str
    fix: str
    severity: Severity = "erreur"


@dataclass(frozen=True)
class RequiredTogether:
    """``then`` must be filled on every row where ``when`` is filled (and the reverse)."""

    when: str
    then: str
    message: str
    fix: str
    severity: Severity = "erreur"


@dataclass(frozen=True)
class CrossCheck:
    """A rule that needs other files or the warehouse; implemented in ``pipeline.check.crosschecks``.

    ``message`` is the rule as the partners' guide states it; ``detail``, when given, is what
    the report says instead for a row, filled with what the check found there (the earlier
    file, its date…): a partner must see which earlier data their row clashes with."""

    id: str
    message: str
    fix: str
    severity: Severity
    detail: str = ""


@dataclass(frozen=True)
class Breakdown:
    """A published table of a dataset's figures split by one of its columns: a row per value,
    named by the column's choice labels (a multi-valued column counts a row under each of its
    values, and its table has no total since a row may count twice)."""

    column: str
    # French heading of the values (« Thématique »).
    label: str
    # Catalogue indicators (``transforms.catalogue``) shown for each value.
    indicators: tuple[str, ...]
    # Name of the table (``<dataset>-<name>``) when it is not the column's.
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.column


@dataclass(frozen=True)
class Contract:
    dataset: str
    title: str
    description: str
    key: str
    columns: tuple[Column, ...]
    pair_rules: tuple[PairRule, ...] = field(default=())
    together_rules: tuple[RequiredTogether, ...] = field(default=())
    cross_checks: tuple[CrossCheck, ...] = field(default=())
    status_column: str | None = None
    # Status codes (choices of ``status_column``) of a session that took place, and of one
    # that was called off: the indicators count held sessions, the agenda hides cancelled ones.
    held_status: str | None = None
    cancelled_status: str | None = None
    # Column whose calendar year places a row in a year for the published indicators, and what
    # that date means in French (said on the methodology and results pages); a dataset without
    # one (the venue directory) is published as it stands on the day.
    date_column: str | None = None
    date_meaning: str = ""
    # Column holding the commune's INSEE code, checked against the partner's communes and
    # placing a row in a commune for the published figures ("": a dataset without one).
    commune_column: str = "commune"
    # Column holding the commune's name, used to fill a missing INSEE code (exact names only).
    commune_name_column: str | None = None
    # Words that, found in a file name, designate this dataset.
    file_words: tuple[str, ...] = ()
    # The published tables of its figures by one of its columns (topic, service…).
    breakdowns: tuple[Breakdown, ...] = ()
    # The dataset whose rows this one completes, joined on this one's key (the refurbisher's
    # sorting completes the pickups): it is counted and credited with that dataset.
    completes: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Columns read as numbers (integers and decimals)."""
        return tuple(c.name for c in self.columns if c.type in ("integer", "decimal"))

    def status_label(self, code: str) -> str:
        """The French label of a status code (``realisee`` -> ``Réalisée``)."""
        for choice in self.column(self.status_column or "").choices:
            if choice.code == code:
                return choice.label
        raise KeyError(code)

    def status_labels(self, codes: tuple[str, ...]) -> list[str]:
        return [self.status_label(code) for code in codes]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)
