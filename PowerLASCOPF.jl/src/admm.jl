# The ADMM / APP loop: each interval's copy agrees on one ramp-feasible trajectory. Warm start: every
# interval's own optimum. The penalty ρ follows residual balancing, a bounded number of times. The
# answer is the copies, accepted only when the residuals are within tolerance and the full constraint
# check passes. Constants and stopping rules are those of the Python coordinator.

const RHO_STEP = 2.0
const ADAPT_EVERY = 5
const MAX_RHO_UPDATES = 30
const RHO_RANGE = (1e-4, 1e6)
const STALL_WINDOW = 300

struct IterationRecord
    iteration::Int
    primal_residual_mw::Float64
    dual_residual::Float64  # ρ · change of the consensus, $/MWh
    rho::Float64
    objective::Float64
    scenarios::Int  # contingency copies (none: each interval copy enforces its own)
end

Base.@kwdef mutable struct Outcome
    status::String
    message::String = ""
    x::Union{Nothing,Matrix{Float64}} = nothing  # (T, D)
    iterations::Int = 0
    history::Vector{IterationRecord} = IterationRecord[]
    lmp::Union{Nothing,Matrix{Float64}} = nothing  # (T, N)
    binding::Vector{Dict{String,Any}} = Dict{String,Any}[]
end

"""Cost per MW of the typical marginal unit over a tenth of the typical unit size."""
function initial_rho(m::Problem)
    g = 1:m.n_gen
    marginal = median(m.c1[g] .+ 2 .* m.c2[g] .* m.upper[1, g] ./ 2)
    unit_size = median(m.upper[1, g])
    return max(marginal, 1.0) / max(0.1 * unit_size, 1.0)
end

"""The copies stopped coming together far from agreement: no feasible point."""
function stalled(history::Vector{IterationRecord}, options::Options)
    length(history) < 2 * STALL_WINDOW && return false
    recent = minimum(h.primal_residual_mw for h in history[(end - STALL_WINDOW + 1):end])
    before = minimum(h.primal_residual_mw for h in history[(end - 2 * STALL_WINDOW + 1):(end - STALL_WINDOW)])
    return recent > 100 * options.primal_tol_mw && recent > 0.99 * before
end

function solve_admm(m::Problem, options::Options)
    T = intervals(m.case)
    rho = rho0 = something(options.rho, initial_rho(m))
    rho_updates = 0
    history = IterationRecord[]
    tol = options.feasibility_tol_mw
    try
        subs = [Subproblem(m, t) for t in 1:T]
        x = permutedims(reduce(hcat, [solve!(subs[t], m, nothing, rho, tol) for t in 1:T]))
        u = zeros(size(x))
        projection = RampProjection(m)
        z = project(projection, m, x .+ u)
        for k in 1:options.max_iterations
            for t in 1:T
                x[t, :] = solve!(subs[t], m, z[t, :] .- u[t, :], rho, tol)
            end
            z_new = project(projection, m, x .+ u)
            dual_residual = rho * maximum(abs.(z_new .- z))
            z = z_new
            gap = x .- z
            u .+= gap
            primal = maximum(abs.(gap))
            push!(history, IterationRecord(k, primal, dual_residual, rho, cost(m, x), 0))
            if primal <= options.primal_tol_mw && dual_residual <= options.dual_tol
                check = verify(m, x)
                if max_violation_mw(check) / m.case.base_mva <= options.verify_tol_pu
                    lmp = zeros(T, n_buses(m.case))
                    binding = Dict{String,Any}[]
                    for sub in subs
                        share, bound = prices(sub, m)
                        lmp[sub.t, :] = share
                        append!(binding, bound)
                    end
                    return Outcome(status="optimal", message="converged in $k iterations", x=copy(x), iterations=k,
                                   history=history, lmp=lmp, binding=sort_binding(binding))
                end
            end
            stalled(history, options) && break
            if options.residual_balancing && k % ADAPT_EVERY == 0 && rho_updates < MAX_RHO_UPDATES
                scaled = dual_residual / rho0  # the dual residual as MW at the initial penalty
                new_rho = primal > options.balance_ratio * scaled ? rho * RHO_STEP :
                          scaled > options.balance_ratio * primal ? rho / RHO_STEP : rho
                new_rho = clamp(new_rho, RHO_RANGE...)
                if new_rho != rho
                    u .*= rho / new_rho
                    rho, rho_updates = new_rho, rho_updates + 1
                end
            end
        end
        final = history[end]
        return Outcome(status="not_converged", x=copy(x), iterations=final.iteration, history=history,
                       message="residuals $(round(final.primal_residual_mw; sigdigits=3)) MW / " *
                               "$(round(final.dual_residual; sigdigits=3)) \$/MWh after $(final.iteration) iterations")
    catch err
        err isa RampInfeasible && return Outcome(status="infeasible", iterations=length(history), history=history,
                                                 message="device $(err.device): P0 cannot reach its limits within the ramps ($(err.status))")
        what = n_scenarios(m) > 1 ? "its contingencies" : "the base case"
        err isa SubproblemInfeasible && return Outcome(status="infeasible", iterations=length(history), history=history,
                                                       message="interval $(err.t) cannot be dispatched securely for $what")
        rethrow()
    end
end
