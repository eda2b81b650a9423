# Linear sensitivities of the DC network. With injections in MW, `ptdf * injection` gives branch flows
# in MW (the reference bus absorbs the imbalance); after the outage of branch k the flow on l is
# f_l + lodf[l, k] f_k.

struct Network
    ptdf::Matrix{Float64}  # (branches, buses)
    lodf::Matrix{Float64}  # (branches, branches); column k is the outage of k, diagonal -1
end

function build_network(case::Case)
    N, L = n_buses(case), n_branches(case)
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
    for k in 1:L
        own = transfer[k, k]
        bridge = case.in_service[k] && isapprox(own, 1.0; atol=1e-8)
        bridge || (lodf[:, k] = transfer[:, k] ./ (1.0 - own))
        lodf[k, k] = -1.0
    end
    return Network(ptdf, lodf)
end

"""PTDF of the network without branch `outage` (its own row is zero)."""
post_contingency_ptdf(network::Network, outage::Int) = network.ptdf .+ network.lodf[:, outage] * network.ptdf[outage, :]'
