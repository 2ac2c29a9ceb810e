"""A partner's mapping as written in territory.toml (``[partners.mapping]``): how its own
export layout maps onto a contract, checked when the configuration is loaded (``MappingError``
names the key). ``pipeline.read.mapping`` applies it to the cells of a file."""

from __future__ import annotations

from dataclasses import dataclass, field

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DEFAULT_LIST_SEPARATORS = "|;,"

# The keys a [partners.mapping] table may hold (documented in territory.toml).
MAPPING_KEYS = {"date_format", "list_separators", "file_date", "ignore_columns", "columns",
                "join", "terms", "ignored_terms", "constants", "defaults", "transforms",
                "values", "hours_by_day", "hours_text"}
TRANSFORM_KEYS = {"split", "zero_pad", "add_scheme"}
TERM_KEYS = {"columns", "terms", "target"}


class MappingError(ValueError):
    """A mapping that cannot work; ``key`` is where it is, inside ``[partners.mapping]``."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"mapping.{key}: {problem}")
        self.key = f"mapping.{key}"
        self.problem = problem


@dataclass(frozen=True)
class TermRule:
    """The cartography's ``{colonnes, termes, cible}``: ``target`` joins the list of a row
    whose cells in ``columns`` hold one of ``terms`` (any filled cell when ``terms`` is empty)."""
    columns: tuple[str, ...]
    terms: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class Transform:
    split: str | None = None       # the partner's own list separator, turned into "|"
    zero_pad: int | None = None    # codes read as numbers: 1053 -> "01053"
    add_scheme: str | None = None  # "www.x.fr" -> "https://www.x.fr"


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    hours_by_day: dict[str, str] = field(default_factory=dict)
    join: dict[str, tuple[str, ...]] = field(default_factory=dict)
    terms: dict[str, tuple[TermRule, ...]] = field(default_factory=dict)
    ignored_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    file_date: tuple[str, ...] = ()
    transforms: dict[str, Transform] = field(default_factory=dict)
    ignore_columns: tuple[str, ...] = ()
    list_separators: str = DEFAULT_LIST_SEPARATORS
    hours_text: str | None = None  # their column holding the week in French words

    @classmethod
    def from_config(cls, raw: dict | None,
                    contract_columns: set[str] | None = None) -> Mapping | None:
        """The mapping of a partner's ``[partners.mapping]`` table, checked: ``MappingError``
        names the key of anything unknown, misspelt or contradictory. ``contract_columns`` are
        the columns of the datasets the partner sends (None: not checked)."""
        if not raw:
            return None
        _no_unknown_keys(raw, MAPPING_KEYS, "")
        mapping = cls(**_targets(raw, contract_columns), **_hours_options(raw, contract_columns),
                      **_reading_options(raw))
        mapping._refuse_conflicts()
        return mapping

    def _refuse_conflicts(self) -> None:
        """Each contract column gets its value one way: two ways would silently overwrite."""
        producers: dict[str, str] = {}
        sources = [(t, f'columns."{s}"') for s, targets in self.columns.items() for t in targets]
        sources += [(t, f"join.{t}") for t in self.join]
        sources += [(t, f"terms.{t}") for t in self.terms]
        sources += [(t, f"constants.{t}") for t in self.constants]
        sources += [("horaires", "hours_by_day") for _ in self.hours_by_day][:1]
        sources += [("horaires", "hours_text")] if self.hours_text else []
        for column, key in sources:
            if column in producers:
                hint = (" — to feed one column from several, list them in [join] or [terms]"
                        if key.startswith("columns") and producers[column].startswith("columns")
                        else "")
                raise MappingError(key, f"contract column {column!r} is already filled by "
                                        f"{producers[column]}{hint}")
            producers[column] = key

    def source_columns(self) -> set[str]:
        """Every column of the partner's file that the mapping reads or knowingly drops."""
        used = set(self.columns) | set(self.hours_by_day) | set(self.ignore_columns)
        used |= {self.hours_text} if self.hours_text else set()
        used |= {c for sources in self.join.values() for c in sources}
        used |= {c for rules in self.terms.values() for r in rules for c in r.columns}
        return used


def _targets(raw: dict, known: set[str] | None) -> dict:
    """The options that fill contract columns, each named column checked against the contract."""
    def target(name: object, key: str) -> str:
        if not isinstance(name, str) or (known is not None and name not in known):
            raise MappingError(key, f"{name!r} is not a column of the partner's contract")
        return name

    columns = {}
    for source, targets in _table(raw, "columns").items():
        names = [targets] if isinstance(targets, str) else targets
        if not isinstance(names, list) or not names:
            raise MappingError(f'columns."{source}"', "give a contract column or a list")
        columns[source] = tuple(target(t, f'columns."{source}"') for t in names)
    values = _table(raw, "values")
    return {
        "columns": columns,
        "join": {target(t, f"join.{t}"): _strings(s, f"join.{t}")
                 for t, s in _table(raw, "join").items()},
        "terms": {target(t, f"terms.{t}"): _term_rules(rules, f"terms.{t}")
                  for t, rules in _table(raw, "terms").items()},
        "constants": {target(t, f"constants.{t}"): _listed(v, f"constants.{t}")
                      for t, v in _table(raw, "constants").items()},
        "defaults": {target(t, f"defaults.{t}"): _listed(v, f"defaults.{t}")
                     for t, v in _table(raw, "defaults").items()},
        "file_date": tuple(target(t, "file_date")
                           for t in _strings(raw.get("file_date", []), "file_date")),
        "transforms": {target(t, f"transforms.{t}"): _transform(v, f"transforms.{t}")
                       for t, v in _table(raw, "transforms").items()},
        "values": {target(t, f"values.{t}"): {str(k): str(v) for k, v in
                                              _table(values, t, "values.").items()}
                   for t in values},
    }


def _hours_options(raw: dict, known: set[str] | None) -> dict:
    hours = {str(k): v for k, v in _table(raw, "hours_by_day").items()}
    for column, day in hours.items():
        if day not in OSM_DAYS:
            raise MappingError(f'hours_by_day."{column}"',
                               f"{day!r} is not an OpenStreetMap day ({', '.join(OSM_DAYS)})")
    hours_text = raw.get("hours_text")
    if hours_text is not None and not isinstance(hours_text, str):
        raise MappingError("hours_text", "give the name of one of their columns")
    if (hours or hours_text) and known is not None and "horaires" not in known:
        key = "hours_by_day" if hours else "hours_text"
        raise MappingError(key, "the partner's contract has no 'horaires' column")
    return {"hours_by_day": hours, "hours_text": hours_text}


def _reading_options(raw: dict) -> dict:
    separators = raw.get("list_separators", DEFAULT_LIST_SEPARATORS)
    if not isinstance(separators, str) or not separators:
        raise MappingError("list_separators", "give the separator characters, e.g. '|;,'")
    date_format = raw.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        raise MappingError("date_format", "give a strptime pattern such as '%d.%m.%Y'")
    return {"list_separators": separators, "date_format": date_format,
            "ignore_columns": _strings(raw.get("ignore_columns", []), "ignore_columns"),
            "ignored_terms": {str(c): _strings(t, f'ignored_terms."{c}"')
                              for c, t in _table(raw, "ignored_terms").items()}}


def _no_unknown_keys(table: dict, allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise MappingError(f"{prefix}{unknown[0]}",
                           f"unknown option (known: {', '.join(sorted(allowed))})")


def _table(raw: dict, key: str, prefix: str = "") -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{prefix}{key}", "must be a table")
    return value


def _strings(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(key, "must be a list of strings")
    return tuple(value)


def _listed(value: object, key: str) -> str:
    """A constant or default: a string, or a list joined as the contract's ``|`` list."""
    if isinstance(value, str):
        return value
    return "|".join(_strings(value, key))


def _term_rules(rules: object, key: str) -> tuple[TermRule, ...]:
    if not isinstance(rules, list) or not rules:
        raise MappingError(key, "must be a list of [[...]] tables with columns, terms, target")
    parsed = []
    for number, rule in enumerate(rules, start=1):
        where = f"{key}[{number}]"
        if not isinstance(rule, dict):
            raise MappingError(where, "must be a table")
        _no_unknown_keys(rule, TERM_KEYS, f"{where}.")
        if "target" not in rule or "columns" not in rule:
            raise MappingError(where, "needs 'columns' and 'target' (for a value every row "
                                      "gets, use [constants])")
        parsed.append(TermRule(_strings(rule["columns"], f"{where}.columns"),
                               _strings(rule.get("terms", []), f"{where}.terms"),
                               str(rule["target"])))
    return tuple(parsed)


def _transform(raw: object, key: str) -> Transform:
    if not isinstance(raw, dict):
        raise MappingError(key, "must be a table")
    _no_unknown_keys(raw, TRANSFORM_KEYS, f"{key}.")
    pad = raw.get("zero_pad")
    if pad is not None and (type(pad) is not int or not 1 <= pad <= 20):
        raise MappingError(f"{key}.zero_pad", "must be a width, e.g. 5")
    for name in ("split", "add_scheme"):
        if name in raw and (not isinstance(raw[name], str) or not raw[name]):
            raise MappingError(f"{key}.{name}", "must be a non-empty string")
    return Transform(raw.get("split"), pad, raw.get("add_scheme"))
