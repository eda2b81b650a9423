# The QPs of both algorithms are JuMP models on HiGHS: a diagonal quadratic cost over device outputs,
# bounds, and rows added as screening finds violated limits. Duals follow JuMP's convention, which for
# a minimisation is ∂objective/∂(right-hand side) — the sign the LMP formulas below rely on.

const DUAL_TOL = 1e-6

function quiet_model()
    model = JuMP.Model(HiGHS.Optimizer)
    set_silent(model)
    set_attribute(model, "threads", 1)
    return model
end

"""Minimise Σ ½ h x² + c x over `x` (a linear objective where h is zero, so HiGHS sees an LP)."""
function set_diagonal_objective!(model, x, h, c)
    linear = AffExpr(0.0)
    for i in eachindex(x)
        add_to_expression!(linear, c[i], x[i])
    end
    if all(iszero, h)
        @objective(model, Min, linear)
    else
        quadratic = QuadExpr(linear)
        for i in eachindex(x)
            iszero(h[i]) || add_to_expression!(quadratic, 0.5 * h[i], x[i], x[i])
        end
        @objective(model, Min, quadratic)
    end
    return nothing
end

"""Solve; `:optimal`, `:infeasible` or the termination status in words."""
function solve_status!(model)
    optimize!(model)
    status = termination_status(model)
    status == MOI.OPTIMAL && return :optimal
    status in (MOI.INFEASIBLE, MOI.INFEASIBLE_OR_UNBOUNDED, MOI.LOCALLY_INFEASIBLE) && return :infeasible
    return Symbol(lowercase(string(status)))
end

"""Ramp limits of device d over its outputs `z` (one per interval), from P0 where it is given: the only
constraints that couple intervals (the centralized solve and the coordinator's projection share them)."""
function add_ramp_rows!(model, m::Problem, d::Int, z::AbstractVector)
    for t in eachindex(z)
        t == 1 && isnan(m.p0[d]) && continue
        previous = t > 1 ? z[t - 1] : m.p0[d]
        isfinite(m.ramp_up[d]) && @constraint(model, z[t] - previous <= m.ramp_up[d])
        isfinite(m.ramp_down[d]) && @constraint(model, previous - z[t] <= m.ramp_down[d])
    end
    return nothing
end

"""A flow-limit row: interval t, scenario s, branch l, and its constraint."""
struct FlowRow
    t::Int
    s::Int
    l::Int
    con::ConstraintRef
end

"""Add the limit of branch l in scenario s, interval t, over the device outputs `x` of that interval."""
function add_flow_row!(model, m::Problem, x, t::Int, s::Int, l::Int)
    a, lower, upper = flow_row(m, t, s, l)
    flow = AffExpr(0.0)
    for d in eachindex(a)
        iszero(a[d]) || add_to_expression!(flow, a[d], x[d])
    end
    return FlowRow(t, s, l, @constraint(model, lower <= flow <= upper))
end

"""LMP contribution (T, N) of flow rows: their bounds move with the demand by ptdf_s[l, n]."""
function congestion_prices(m::Problem, rows::Vector{FlowRow})
    prices = zeros(intervals(m.case), n_buses(m.case))
    for row in rows
        prices[row.t, :] .+= dual(row.con) .* m.ptdfs[row.s][row.l, :]
    end
    return prices
end

"""Binding limits (non-zero dual) of flow rows, with the flows of the (T, D) dispatch `x`."""
function binding_constraints(m::Problem, rows::Vector{FlowRow}, x::AbstractMatrix)
    out = Dict{String,Any}[]
    for row in rows
        y = dual(row.con)
        abs(y) <= DUAL_TOL && continue
        flow = scenario_flows(m, x[row.t, :], row.t, row.s)[row.l]
        push!(out, Dict{String,Any}("interval" => row.t, "branch" => m.case.branch_names[row.l],
                                    "contingency" => scenario_label(m, row.s), "flow_mw" => flow,
                                    "limit_mw" => rating(m, row.s)[row.l], "shadow_price" => abs(y)))
    end
    return out
end

sort_binding(binding) = sort(binding; by=b -> (b["interval"], something(b["contingency"], ""), b["branch"]))
