"""Stage timings for the benchmark: wall time, rows and peak memory of each pipeline stage.

``pipeline`` modules call ``stage(...)`` around their steps; it records nothing unless
``INCLUSION_METRICS`` names a JSON-lines file, so production runs pay one environment lookup.
Peak memory is the process's resident set size sampled every 20 ms during the stage.
"""
