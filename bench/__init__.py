"""National-scale benchmark (``make bench``): synthetic partner files, real Airflow run, figures."""
