# One ADMM block: the copy of interval t's dispatch. It carries the interval's cost plus the proximal
# term ρ/2 ‖x − v‖² (v = consensus − scaled multiplier) and enforces the balance, device bounds and
# the flow limits of every scenario, screened: solve, add the violated rows, re-solve — so every copy
# it returns is exactly feasible for its own interval.

struct SubproblemInfeasible <: Exception
    t::Int
    status::Symbol
end

mutable struct Subproblem
    t::Int
    model::JuMP.Model
    x::Vector{VariableRef}
    balance::ConstraintRef
    rows::Vector{FlowRow}
    present::Matrix{Bool}  # (S, L): rows already in the model
end

function Subproblem(m::Problem, t::Int)
    model = quiet_model()
    D = n_devices(m)
    @variable(model, m.lower[t, d] <= x[d=1:D] <= m.upper[t, d])
    balance = @constraint(model, sum(x) == sum(m.case.load_mw[t, :]))
    return Subproblem(t, model, x, balance, FlowRow[], zeros(Bool, n_scenarios(m), n_branches(m.case)))
end

"""The minimiser given the prox target (`nothing`: no proximal term, the warm start)."""
function solve!(sub::Subproblem, m::Problem, target::Union{Nothing,AbstractVector}, rho::Float64, tol_mw::Float64)
    h, c = 2.0 .* m.c2, copy(m.c1)
    if target !== nothing
        h = h .+ rho
        c = c .- rho .* target
    end
    set_diagonal_objective!(sub.model, sub.x, h, c)
    while true
        status = solve_status!(sub.model)
        status == :optimal || throw(SubproblemInfeasible(sub.t, status))
        x = value.(sub.x)
        new = (overloads(m, x, sub.t) .> tol_mw) .& .!sub.present
        any(new) || return x
        for idx in findall(new)
            push!(sub.rows, add_flow_row!(sub.model, m, sub.x, sub.t, idx[1], idx[2]))
        end
        sub.present .|= new
    end
end

"""This copy's LMPs (N) and binding limits from its last solve. At convergence the proximal gradient
is the consensus multiplier, so the duals of the copy's own rows are those of the full problem."""
function prices(sub::Subproblem, m::Problem)
    x = zeros(intervals(m.case), n_devices(m))
    x[sub.t, :] = value.(sub.x)
    lmp = dual(sub.balance) .+ congestion_prices(m, sub.rows)[sub.t, :]
    return lmp, binding_constraints(m, sub.rows, x)
end
