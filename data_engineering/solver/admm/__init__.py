"""ADMM / APP decomposition of the LASCOPF: subproblems, where they run, and the coordinator."""
