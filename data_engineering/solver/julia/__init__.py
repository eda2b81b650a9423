"""The Julia backend (`SOLVER_BACKEND=julia`): the same LASCOPF, solved by `PowerLASCOPF.jl` through juliacall.

`marshal` turns a case and options into what Julia receives (MATPOWER + sidecar files and an options
document) and its result JSON back into a `SolveResult`; `backend` makes the call; `golden` writes the
fixtures the Julia package's own tests compare against.
"""
