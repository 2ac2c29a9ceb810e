"""Check: Great Expectations suites, validation and cross-checks against the warehouse."""
