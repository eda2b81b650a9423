# The platform's result document (what `SolveResult.to_json` writes in Python), field for field, so the
# platform stores and checks either solver's answer the same way.

const ACCEPT_TOL_PU = 1e-3  # worst violation an answer may have and still be called optimal

per_interval(names, table) = table === nothing ? Dict{String,Any}() :
    Dict{String,Any}(String(n) => round.(table[:, i]; digits=6) for (i, n) in enumerate(names))

finite_or_nothing(v) = isfinite(v) ? v : nothing

function result_json(m::Problem, options::Options, out::Outcome, seconds::Float64)
    case = m.case
    bus_names = string.(case.bus_ids)
    doc = Dict{String,Any}(
        "case" => case.name, "method" => options.method, "status" => out.status, "message" => out.message,
        "objective" => nothing, "iterations" => out.iterations, "solve_time_s" => round(seconds; digits=4),
        "max_violation_pu" => nothing, "violation_mw" => Dict{String,Any}(),
        "intervals" => intervals(case), "contingencies" => length(case.contingencies),
        "dispatch" => Dict{String,Any}(), "lmp" => Dict{String,Any}(), "shed" => Dict{String,Any}(),
        "flows" => Dict{String,Any}(),
        "generator_bus" => Dict{String,Any}(n => case.bus_ids[b] for (n, b) in zip(case.gen_names, case.gen_bus)),
        "binding_contingencies" => String[], "binding_constraints" => Dict{String,Any}[],
        "infeasible_contingencies" => String[], "islanding_contingencies" => String[],
        "screening_rounds" => options.method == "centralized" ? out.iterations : 0,
        "history" => [Dict{String,Any}(String(f) => getfield(h, f) for f in fieldnames(IterationRecord)) for h in out.history],
    )
    out.status == "optimal" || return doc  # results are assigned on success only
    x = out.x
    check = verify(m, x)
    shed = zeros(intervals(case), n_buses(case))
    for d in (m.n_gen + 1):n_devices(m)
        shed[:, m.device_bus[d]] .+= x[:, d]
    end
    doc["objective"] = cost(m, x)
    doc["dispatch"] = per_interval(case.gen_names, x[:, 1:m.n_gen])
    doc["lmp"] = per_interval(bus_names, out.lmp)
    doc["shed"] = any(shed .!= 0) ? per_interval(bus_names, shed) : Dict{String,Any}()
    doc["flows"] = per_interval(case.branch_names, flows(m, x))
    doc["binding_constraints"] = out.binding
    doc["binding_contingencies"] = sort(unique(String[b["contingency"] for b in out.binding if b["contingency"] !== nothing]))
    doc["violation_mw"] = check.violation_mw
    doc["max_violation_pu"] = finite_or_nothing(max_violation_mw(check) / case.base_mva)
    if max_violation_mw(check) / case.base_mva > ACCEPT_TOL_PU
        doc["status"], doc["message"] = "not_converged", "worst violation $(check.worst)"
    end
    return doc
end
