"""Shared facts: each dataset's contract, the national venue standard, partner mappings, file templates."""
