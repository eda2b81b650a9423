# The coordinator's step: the consensus trajectory Z minimises Σ_t ‖x_t + u_t − Z_t‖² over device
# bounds and the ramps from P0 — the coupling between neighbouring intervals lives here and nowhere
# else. It separates by device: one small chain QP per ramp-limited device, a clip for the others.

struct RampInfeasible <: Exception
    device::Int
    status::Symbol
end

struct RampChain
    model::JuMP.Model
    z::Vector{VariableRef}
end

function RampChain(m::Problem, d::Int)
    model = quiet_model()
    T = intervals(m.case)
    @variable(model, m.lower[t, d] <= z[t=1:T] <= m.upper[t, d])
    add_ramp_rows!(model, m, d, z)
    return RampChain(model, z)
end

struct RampProjection
    chains::Dict{Int,RampChain}
end

RampProjection(m::Problem) = RampProjection(Dict{Int,RampChain}(d => RampChain(m, d) for d in ramp_limited(m)))

"""`total` (T, D): x + u per interval (one copy per interval), projected onto bounds and ramps."""
function project(p::RampProjection, m::Problem, total::Matrix{Float64})
    z = clamp.(total, m.lower, m.upper)
    for (d, chain) in p.chains
        set_diagonal_objective!(chain.model, chain.z, ones(size(total, 1)), -total[:, d])
        status = solve_status!(chain.model)
        status == :optimal || throw(RampInfeasible(d, status))
        z[:, d] = value.(chain.z)
    end
    return z
end
