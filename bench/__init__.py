"""National-scale benchmark (``make bench``): synthetic partner files, real Airflow run, figures."""


def thousands(value: float) -> str:
    """A whole number as the benchmark tables print it: thin spaces between thousands."""
    return f"{value:,.0f}".replace(",", "\u202f")
