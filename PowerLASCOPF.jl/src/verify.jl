# The full constraint check every answer goes through, whichever algorithm produced it: balance,
# device limits, ramps, base-case flows and every contingency's flows, recomputed from the dispatch.

const FAMILIES = ("balance", "device_limits", "ramps", "base_flows", "contingency_flows")

struct Verification
    violation_mw::Dict{String,Float64}  # worst violation per constraint family (0 when satisfied)
    worst::String  # where the worst one is, in words
end

max_violation_mw(v::Verification) = maximum(values(v.violation_mw))

function verify(m::Problem, x::AbstractMatrix)
    case, T = m.case, size(x, 1)
    worst = Dict(f => (0.0, "none") for f in FAMILIES)
    note!(family, value, place) = value > worst[family][1] && (worst[family] = (value, place()))
    for t in 1:T
        note!("balance", abs(sum(x[t, :]) - sum(case.load_mw[t, :])), () -> "interval $t")
        for d in axes(x, 2)
            note!("device_limits", max(m.lower[t, d] - x[t, d], x[t, d] - m.upper[t, d]), () -> "device $d, interval $t")
            previous = t > 1 ? x[t - 1, d] : (isnan(m.p0[d]) ? x[1, d] : m.p0[d])
            step = x[t, d] - previous
            note!("ramps", max(step - m.ramp_up[d], -step - m.ramp_down[d]), () -> "device $d, interval $t")
        end
        over = overloads(m, x[t, :], t)
        for s in axes(over, 1), l in axes(over, 2)
            family = s == 1 ? "base_flows" : "contingency_flows"
            place = s == 1 ? () -> "branch $(case.branch_names[l]), interval $t" :
                    () -> "branch $(case.branch_names[l]) after $(scenario_label(m, s)), interval $t"
            note!(family, over[s, l], place)
        end
    end
    violation = Dict(f => worst[f][1] for f in FAMILIES)
    family = argmax(f -> worst[f][1], FAMILIES)
    return Verification(violation, worst[family][1] > 0 ? "$family: $(worst[family][2])" : "none")
end
