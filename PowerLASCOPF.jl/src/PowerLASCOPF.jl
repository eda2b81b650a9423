"""
    PowerLASCOPF

The look-ahead, N-1 secure DC OPF of the PowerLASCOPF data platform, solved by the same ADMM / APP
decomposition as its Python solver (`data_engineering/solver`): one copy of each interval's dispatch
that enforces that interval's screened contingency limits, a coordinator that projects the copies onto
the ramp limits, scaled multipliers and residual-balanced penalty. A centralized extensive form on
HiGHS is the reference. Reads the case as the platform exports it (MATPOWER v2 + the
`lascopf-sidecar/1` JSON) and writes the platform's result JSON, so either solver's answer is stored
and checked the same way.
"""
module PowerLASCOPF

using JSON
using JuMP
using LinearAlgebra
using Statistics
import HiGHS

export read_case, solve, solve_files, result_json, Options

include("case.jl")
include("options.jl")
include("network.jl")
include("model.jl")
include("verify.jl")
include("qp.jl")
include("subproblem.jl")
include("ramps.jl")
include("admm.jl")
include("centralized.jl")
include("result.jl")
include("solve.jl")

end
