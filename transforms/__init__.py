"""Indicators computed from the warehouse with pandas: figures only, no wording or layout."""
