# The LASCOPF in injection (PTDF) form: a `Problem` (JuMP's `Model` is the QP container). Devices are
# the generators plus, with load shedding, one shedding device per loaded bus (cost VOLL, bounds
# [0, load], no ramp limit). Scenario 1 is the base case (normal ratings); scenario s ≥ 2 is the outage
# of `case.contingencies[s - 1]` (emergency ratings).

struct Problem
    case::Case
    network::Network
    device_bus::Vector{Int}
    c2::Vector{Float64}
    c1::Vector{Float64}
    c0_total::Float64
    lower::Matrix{Float64}  # (T, D)
    upper::Matrix{Float64}
    ramp_up::Vector{Float64}  # Inf where unlimited
    ramp_down::Vector{Float64}
    p0::Vector{Float64}  # NaN where no ramp from t = 0 applies
    n_gen::Int
    ptdfs::Vector{Matrix{Float64}}  # per scenario
end

function build_problem(case::Case, options::Options)
    T = intervals(case)
    lower, upper = repeat(case.pmin_mw', T, 1), repeat(case.pmax_mw', T, 1)
    bus, c2, c1 = copy(case.gen_bus), copy(case.c2), copy(case.c1)
    ramp_up, ramp_down, p0 = copy(case.ramp_up_mw), copy(case.ramp_down_mw), copy(case.p0_mw)
    if options.load_shedding
        loaded = findall(vec(any(case.load_mw .> 0; dims=1)))
        k = length(loaded)
        append!(bus, loaded)
        append!(c2, zeros(k))
        append!(c1, fill(options.voll_per_mwh, k))
        lower = hcat(lower, zeros(T, k))
        upper = hcat(upper, max.(case.load_mw[:, loaded], 0.0))
        append!(ramp_up, fill(Inf, k))
        append!(ramp_down, fill(Inf, k))
        append!(p0, fill(NaN, k))
    end
    network = build_network(case)
    ptdfs = Matrix{Float64}[network.ptdf]
    for c in case.contingencies
        network.bridges[c.branch] && refuse_islanding(case, c.label, case.in_service .& ((1:n_branches(case)) .!= c.branch))
        push!(ptdfs, post_contingency_ptdf(network, c.branch))
    end
    return Problem(case, network, bus, c2, c1, sum(case.c0), lower, upper, ramp_up, ramp_down, p0,
                 length(case.gen_bus), ptdfs)
end

n_devices(m::Problem) = length(m.c1)
n_scenarios(m::Problem) = length(m.ptdfs)
rating(m::Problem, s::Int) = s == 1 ? m.case.rate_mw : m.case.emergency_mw
scenario_label(m::Problem, s::Int) = s == 1 ? nothing : m.case.contingencies[s - 1].label
ramp_limited(m::Problem) = [d for d in 1:n_devices(m) if isfinite(m.ramp_up[d]) || isfinite(m.ramp_down[d])]

"""Objective of a (T, D) dispatch: $ over the horizon (hourly cost rates summed over intervals)."""
cost(m::Problem, x::AbstractMatrix) = sum(m.c2' .* x .^ 2 .+ m.c1' .* x) + m.c0_total * size(x, 1)

"""Net bus injections (N) of device outputs `x` (D) in interval t."""
function injection(m::Problem, x::AbstractVector, t::Int)
    inj = -m.case.load_mw[t, :]
    for d in eachindex(x)
        inj[m.device_bus[d]] += x[d]
    end
    return inj
end

"""Flows (L) of scenario s for device outputs `x` (D) in interval t."""
scenario_flows(m::Problem, x::AbstractVector, t::Int, s::Int) = m.ptdfs[s] * injection(m, x, t)

"""Base-case flows (T, L) of a (T, D) dispatch."""
flows(m::Problem, x::AbstractMatrix) = permutedims(reduce(hcat, [scenario_flows(m, x[t, :], t, 1) for t in axes(x, 1)]))

"""(S, L) amount (MW) by which each flow of interval t exceeds its limit (≤ 0 where within)."""
function overloads(m::Problem, x::AbstractVector, t::Int)
    over = zeros(n_scenarios(m), n_branches(m.case))
    for s in 1:n_scenarios(m)
        over[s, :] = abs.(scenario_flows(m, x, t, s)) .- rating(m, s)
    end
    return over
end

"""Row coefficients over devices and the bounds of the flow limit of branch l in scenario s, interval t:
`ptdf_s[l] · (C x − d_t)` within ± the rating."""
function flow_row(m::Problem, t::Int, s::Int, l::Int)
    ptdf = m.ptdfs[s][l, :]
    offset = dot(ptdf, m.case.load_mw[t, :])
    limit = rating(m, s)[l]
    return ptdf[m.device_bus], offset - limit, offset + limit
end
