# Linear sensitivities of the DC network. With injections in MW, `ptdf * injection` gives branch flows
# in MW (the reference bus absorbs the imbalance); after the outage of branch k the flow on l is
# f_l + lodf[l, k] f_k.

struct Network
    ptdf::Matrix{Float64}  # (branches, buses)
    lodf::Matrix{Float64}  # (branches, branches); column k is the outage of k, diagonal -1
    bridges::Vector{Bool}  # the outage of the branch cuts buses off the reference bus
end

"""Buses not connected to the reference bus through the `live` branches (a graph search)."""
function cut_off(case::Case, live::AbstractVector{Bool})
    reached = falses(n_buses(case))
    reached[case.ref] = true
    frontier = [case.ref]
    while !isempty(frontier)
        n = pop!(frontier)
        for l in findall(live .& ((case.from_bus .== n) .| (case.to_bus .== n)))
            other = case.from_bus[l] == n ? case.to_bus[l] : case.from_bus[l]
            reached[other] || (reached[other] = true; push!(frontier, other))
        end
    end
    return .!reached
end

"""Refuses, as the Python solver does by default, a network or an outage that cuts buses off: a DC
model has no flow solution for them (the Python option to shed their load is not ported)."""
function refuse_islanding(case::Case, what::String, live::AbstractVector{Bool})
    island = cut_off(case, live)
    any(island) && error("$what (buses $(join(case.bus_ids[island], ", "))): cut buses off the reference bus, " *
                         "where a DC model has no flow solution; refused")
end

function build_network(case::Case)
    N, L = n_buses(case), n_branches(case)
    refuse_islanding(case, "case $(case.name) with its branches out of service", case.in_service)
    live = findall(case.in_service)
    incidence = zeros(length(live), N)
    for (row, l) in enumerate(live)
        incidence[row, case.from_bus[l]] = 1.0
        incidence[row, case.to_bus[l]] = -1.0
    end
    bf = (1.0 ./ case.x_pu[live]) .* incidence
    bbus = incidence' * bf
    keep = [n for n in 1:N if n != case.ref]
    inverse = zeros(N, N)
    inverse[keep, keep] = bbus[keep, keep] \ Matrix{Float64}(I, length(keep), length(keep))
    ptdf = zeros(L, N)
    ptdf[live, :] = bf * inverse
    # Flow change on l per MW moved across branch k.
    transfer = ptdf[:, case.from_bus] .- ptdf[:, case.to_bus]
    lodf = zeros(L, L)
    bridges = falses(L)
    for k in 1:L
        own = transfer[k, k]
        bridges[k] = case.in_service[k] && isapprox(own, 1.0; atol=1e-8)
        bridges[k] || (lodf[:, k] = transfer[:, k] ./ (1.0 - own))
        lodf[k, k] = -1.0
    end
    return Network(ptdf, lodf, bridges)
end

"""PTDF of the network without branch `outage` (its own row is zero)."""
post_contingency_ptdf(network::Network, outage::Int) = network.ptdf .+ network.lodf[:, outage] * network.ptdf[outage, :]'
