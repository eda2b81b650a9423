# The reference: one QP over every interval (dispatch, balance, ramps), flow limits added only where
# violated — base case and every contingency — re-solving until none is. Its optimum is that of the
# full extensive form; LMPs come from the duals of the balance and flow rows.

function solve_centralized(m::Problem, options::Options)
    T, D = intervals(m.case), n_devices(m)
    model = quiet_model()
    @variable(model, m.lower[t, d] <= x[t=1:T, d=1:D] <= m.upper[t, d])
    balance = [@constraint(model, sum(x[t, :]) == sum(m.case.load_mw[t, :])) for t in 1:T]
    for d in ramp_limited(m)
        add_ramp_rows!(model, m, d, x[:, d])
    end
    set_diagonal_objective!(model, vec(x), repeat(2.0 .* m.c2', T, 1)[:], repeat(m.c1', T, 1)[:])
    rows = FlowRow[]
    present = zeros(Bool, T, n_scenarios(m), n_branches(m.case))
    for screening in 1:options.max_screening_rounds
        status = solve_status!(model)
        status == :optimal || return Outcome(status=status == :infeasible ? "infeasible" : string(status),
                                             iterations=screening, message="centralized solve: $status")
        value_x = value.(x)
        added = 0
        for t in 1:T
            new = (overloads(m, value_x[t, :], t) .> options.feasibility_tol_mw) .& .!present[t, :, :]
            for idx in findall(new)
                push!(rows, add_flow_row!(model, m, x[t, :], t, idx[1], idx[2]))
            end
            present[t, :, :] .|= new
            added += count(new)
        end
        if added == 0
            lmp = dual.(balance) .+ congestion_prices(m, rows)
            return Outcome(status="optimal", message="$screening screening rounds", x=value_x, iterations=screening,
                           lmp=lmp, binding=sort_binding(binding_constraints(m, rows, value_x)))
        end
    end
    return Outcome(status="not_converged", iterations=options.max_screening_rounds,
                   message="flow limits still violated after $(options.max_screening_rounds) screening rounds")
end
