"""The same rules as a stored GX suite, evaluated with plain pandas.

Only for the benchmark's "GX vs plain pandas" ratio: it reads the very suite file GX runs and
returns, per expectation, the spreadsheet lines that fail, so both sides do the same work.
"""

from __future__ import annotations

import re

import pandas as pd

LINE = "_ligne"


def _row_mask(frame: pd.DataFrame, kwargs: dict) -> pd.Series:
    condition = kwargs.get("row_condition")
    if not condition:
        return pd.Series(True, index=frame.index)
    return frame.eval(condition, engine="python").astype(bool)


def failing_lines(frame: pd.DataFrame, expectation: dict, parameters: dict) -> list[int]:
    kind, kwargs = expectation["type"], expectation["kwargs"]
    if kind == "expect_column_to_exist":
        return [] if kwargs["column"] in frame.columns else [-1]
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = frame[kwargs["column_A"]], frame[kwargs["column_B"]]
        both = a.notna() & b.notna()
        bad = both & ~((a >= b) if kwargs.get("or_equal") else (a > b))
        return frame.loc[bad, LINE].tolist()
    column = frame[kwargs["column"]]
    scope = _row_mask(frame, kwargs)
    present = column.notna() & scope
    if kind == "expect_column_values_to_not_be_null":
        bad = column.isna() & scope
    elif kind == "expect_column_values_to_be_in_set":
        values = kwargs["value_set"]
        if isinstance(values, dict):
            values = parameters[values["$PARAMETER"]]
        bad = present & ~column.isin(values)
    elif kind == "expect_column_values_to_match_regex":
        pattern = re.compile(kwargs["regex"])
        bad = present & ~column.astype(str).str.match(pattern)
    elif kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        numbers = pd.to_numeric(column, errors="coerce")
        bad = present & (((numbers < low) if low is not None else False)
                         | ((numbers > high) if high is not None else False))
    elif kind == "expect_column_values_to_be_unique":
        bad = present & column.duplicated(keep=False)
    else:
        raise NotImplementedError(kind)
    return frame.loc[bad, LINE].tolist()


def run_rules(frame: pd.DataFrame, suite: dict, parameters: dict) -> dict[int, list[int]]:
    return {i: lines for i, e in enumerate(suite["expectations"])
            if (lines := failing_lines(frame, e, parameters))}
