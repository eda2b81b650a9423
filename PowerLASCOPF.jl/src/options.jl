# What a solve may do; the same fields, names and defaults as the Python `SolveOptions`.

const OPTIONS_FORMAT = "lascopf-julia-options/1"

Base.@kwdef struct Options
    method::String = "admm"  # admm | centralized
    load_shedding::Bool = false
    voll_per_mwh::Float64 = 10_000.0
    feasibility_tol_mw::Float64 = 1e-3
    max_screening_rounds::Int = 50
    rho::Union{Nothing,Float64} = nothing  # initial ADMM penalty; nothing = from the cost scale
    max_iterations::Int = 3000
    primal_tol_mw::Float64 = 5e-3
    dual_tol::Float64 = 1e-2
    verify_tol_pu::Float64 = 5e-4
    residual_balancing::Bool = true
    balance_ratio::Float64 = 5.0
end

# Python options this package has not ported, with the only value it solves: any other is refused by
# name, so the backends never disagree silently.
const NOT_PORTED = Dict("mode" => "preventive", "islanding" => "refuse")

"""The options document the platform sends (`lascopf-julia-options/1`); unknown fields are refused."""
function Options(doc::AbstractDict)
    get(doc, "format", "") == OPTIONS_FORMAT || error("options are not a $OPTIONS_FORMAT document")
    for (name, only) in NOT_PORTED
        get(doc, name, only) == only ||
            error("$name = $(doc[name]) is not ported to PowerLASCOPF.jl (it solves $name = $only); use the Python solver")
    end
    known = Set(String.(fieldnames(Options)))
    unknown = [k for k in keys(doc) if k != "format" && !(k in known) && !haskey(NOT_PORTED, k)]
    isempty(unknown) || error("unknown options $(unknown)")
    kwargs = Dict{Symbol,Any}()
    for (k, v) in doc
        (k == "format" || haskey(NOT_PORTED, k)) && continue
        kwargs[Symbol(k)] = k == "rho" && v !== nothing ? Float64(v) : v
    end
    options = Options(; kwargs...)
    options.method in ("admm", "centralized") || error("unknown method $(options.method): admm or centralized")
    return options
end
