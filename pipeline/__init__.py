"""Ingestion, in flow order: receive -> read -> check -> load -> report; ``ingest`` chains them.

``contracts`` holds the shared facts; ``config``, ``stages``, ``faults`` and ``files`` serve every
step; ``cli`` and ``runstate`` are steward tools. Indicators live in ``transforms``, pages in
``pages``, publication in ``publish``; DAG files in ``dags/`` only wire these functions together.
"""
