"""transforms/suppression.py: small counts are withheld, and a published total never lets a
reader get a single withheld row back by subtraction."""

from __future__ import annotations

import pytest

from transforms.suppression import DEFAULT_THRESHOLD, is_small, suppress


def rows(*values, reported=None):
    """One row per value, sorted by name a, b, c…; ``reported`` lists the rows without data."""
    return [{"renseigne": not (reported and name in reported), "values": {"n": value},
             "sort": name} for name, value in zip("abcdefgh", values)]


def total(value):
    return {"values": {"n": value}}


def secret(table):
    return ["".join(r["sort"] for r in table if r["secret"]),
            "".join(r["sort"] for r in table if r.get("secondary"))]


@pytest.mark.parametrize("value, small", [
    (None, False), (0, False), (1, True), (4, True), (4.9, True), (5, False), (120, False),
])
def test_is_small_between_one_and_the_threshold(value, small):
    assert DEFAULT_THRESHOLD == 5
    assert is_small(value, 5) is small


def test_nothing_is_withheld_when_every_count_is_large_enough():
    table, whole = rows(12, 30, 5), total(47)
    suppress(table, whole, "n", 5)
    assert secret(table) == ["", ""] and whole["secret"] is False


def test_two_small_rows_need_no_secondary_suppression():
    table = rows(3, 30, 2, 12)
    suppress(table, total(47), "n", 5)
    assert secret(table) == ["ac", ""]


def test_a_single_small_row_takes_the_smallest_other_row_with_it():
    table = rows(3, 30, 8, 12)
    suppress(table, total(53), "n", 5)
    # 53 - 30 - 12 would give c + a back if only a were withheld
    assert secret(table) == ["ac", "c"]


def test_ties_between_candidates_are_broken_by_the_sort_key():
    table = rows(40, 9, 2, 9)
    suppress(table, total(60), "n", 5)
    assert secret(table) == ["bc", "b"]


def test_without_a_published_total_a_single_small_row_is_enough():
    table = rows(3, 30, 8)
    suppress(table, None, "n", 5)
    assert secret(table) == ["a", ""]


def test_a_small_total_is_withheld_itself_and_needs_no_secondary_cell():
    table, whole = rows(3, 0), total(3)
    suppress(table, whole, "n", 5)
    assert whole["secret"] is True
    assert secret(table) == ["a", ""]  # b (0 people) would be taken if the total were shown


def test_rows_without_data_are_never_withheld_nor_chosen():
    table = rows(3, 2, 30, 8, reported={"b", "d"})
    suppress(table, total(43), "n", 5)
    # b (2 people) publishes nothing, so it is not secret; d is not a candidate either
    assert secret(table) == ["ac", "c"]


def test_rows_with_an_unknown_count_are_not_candidates():
    table = rows(3, None, 20)
    suppress(table, total(23), "n", 5)
    assert secret(table) == ["ac", "c"]


def test_when_no_other_row_can_be_withheld_the_single_secret_stays_alone():
    table = rows(3, 30, reported={"b"})
    suppress(table, total(33), "n", 5)
    assert secret(table) == ["a", ""]


def test_the_threshold_is_a_parameter():
    table = rows(8, 30, 12, 9)
    suppress(table, total(59), "n", 10)
    assert secret(table) == ["ad", ""]
    suppress(table, total(59), "n", 5)
    assert [r["secret"] for r in table] == [False] * 4
