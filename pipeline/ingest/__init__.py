"""Processing dropped files end to end, one module per step; ``flow.process_files`` chains them.

screen (size, dataset, reading, privacy: one file alone) -> validate (the batch's Great
Expectations runs, then each file's cross-checks against the warehouse) -> record (ledger row
and rows in one transaction, report, filed away). Beside them: ``withdrawals`` (files taking
rows back), ``safety_net`` (files failing again and again), ``reprocess`` (a steward's second
look at a refused file). This package comes after every step of ``pipeline``: it may import
them all, none of them imports it.
"""
