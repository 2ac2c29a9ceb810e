"""Demo data: the sample partner files (make demo, tests) and the national-scale generator (make bench)."""
