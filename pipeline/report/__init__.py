"""Report: French reports to partners and alerts to stewards."""
