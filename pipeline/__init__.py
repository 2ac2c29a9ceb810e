"""Plain-Python core of the pipeline, in flow order:

inbox (scan partner folders) -> ledger (every file, once) -> reading (any encoding/format)
-> validation (Great Expectations suites from the contracts) -> warehouse (accepted rows)
-> reports (French, back to the partner). Indicators live in ``transforms``; the site in ``site``.
DAG files in ``dags/`` only wire these functions together.
"""
