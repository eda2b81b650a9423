"""Great Expectations quality gates: suites derived from the record contracts plus grid-physics
checks, run on each batch before anything downstream is written."""
