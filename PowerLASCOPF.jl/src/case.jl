# The case as `write_case` exports it: the MATPOWER v2 file holds the network, units and costs; the
# sidecar holds what MATPOWER cannot (loads per interval, P0, ramps per interval, emergency ratings,
# names, contingencies). Indices are 1-based positions; external bus numbers are only names.

struct Contingency
    branch::Int  # the outaged branch (position)
    label::String
end

struct Case
    name::String
    base_mva::Float64
    bus_ids::Vector{Int}
    ref::Int
    from_bus::Vector{Int}
    to_bus::Vector{Int}
    x_pu::Vector{Float64}  # DC series reactance (r² + x²) / x
    rate_mw::Vector{Float64}  # normal rating; Inf where none
    emergency_mw::Vector{Float64}  # post-contingency rating
    in_service::Vector{Bool}
    branch_names::Vector{String}
    gen_bus::Vector{Int}
    c2::Vector{Float64}  # $/MW²h
    c1::Vector{Float64}  # $/MWh
    c0::Vector{Float64}  # $/h
    pmin_mw::Vector{Float64}
    pmax_mw::Vector{Float64}
    ramp_up_mw::Vector{Float64}  # per interval
    ramp_down_mw::Vector{Float64}
    p0_mw::Vector{Float64}
    gen_names::Vector{String}
    load_mw::Matrix{Float64}  # (intervals, buses)
    contingencies::Vector{Contingency}
    interval_minutes::Float64
end

intervals(case::Case) = size(case.load_mw, 1)
n_buses(case::Case) = length(case.bus_ids)
n_branches(case::Case) = length(case.x_pu)

# MATPOWER columns (1-based).
const BUS_I, BUS_TYPE, REF_BUS, ISOLATED_BUS = 1, 2, 3, 4
const GEN_BUS, GEN_STATUS, PMAX, PMIN = 1, 8, 9, 10
const F_BUS, T_BUS, BR_R, BR_X, RATE_A, BR_STATUS = 1, 2, 3, 4, 6, 11

"""
    matpower_tables(text) -> (base_mva, Dict(name => matrix))

The numeric tables of a MATPOWER v2 file (`mpc.bus = [...];` and the like); comments dropped, rows
split on `;` or line ends.
"""
function matpower_tables(text::AbstractString)
    text = replace(text, r"%[^\n]*" => "")
    base = match(r"mpc\.baseMVA\s*=\s*([-+0-9.eE]+)\s*;", text)
    base === nothing && error("not a MATPOWER case: no mpc.baseMVA")
    tables = Dict{String,Matrix{Float64}}()
    for m in eachmatch(r"mpc\.(\w+)\s*=\s*\[(.*?)\]\s*;"s, text)
        rows = [parse.(Float64, split(strip(line))) for line in split(m.captures[2], r"[;\n]") if !isempty(strip(line))]
        isempty(rows) && continue
        widths = unique(length.(rows))
        length(widths) == 1 || error("mpc.$(m.captures[1]): rows of different lengths $(widths)")
        tables[m.captures[1]] = permutedims(reduce(hcat, rows))
    end
    for key in ("bus", "gen", "branch", "gencost")
        haskey(tables, key) || error("not a MATPOWER case: no mpc.$key")
    end
    return parse(Float64, base.captures[1]), tables
end

"""Polynomial costs (c2, c1, c0) per gencost row (MATPOWER model 2, highest order first)."""
function polynomial_costs(gencost::Matrix{Float64})
    n = size(gencost, 1)
    c2, c1, c0 = zeros(n), zeros(n), zeros(n)
    for g in 1:n
        gencost[g, 1] == 2 || error("gencost row $g: only polynomial costs (model 2) are supported")
        order = Int(gencost[g, 4])
        coeffs = gencost[g, 5:(4 + order)]
        c0[g] = order >= 1 ? coeffs[end] : 0.0
        c1[g] = order >= 2 ? coeffs[end - 1] : 0.0
        c2[g] = order >= 3 ? coeffs[end - 2] : 0.0
    end
    return c2, c1, c0
end

floats(items) = Float64[v === nothing ? Inf : Float64(v) for v in items]  # JSON null = unlimited

"""
    read_case(m_path, sidecar_path=<same stem>.json) -> Case

A case exported by the platform (`write_case`): MATPOWER v2 plus its `lascopf-sidecar/1` JSON.
"""
function read_case(m_path::AbstractString, sidecar_path::AbstractString=splitext(m_path)[1] * ".json")
    base_mva, mpc = matpower_tables(read(m_path, String))
    side = JSON.parsefile(sidecar_path)
    get(side, "format", "") == "lascopf-sidecar/1" || error("$sidecar_path is not a lascopf-sidecar/1 document")

    bus = mpc["bus"]
    bus = bus[bus[:, BUS_TYPE] .!= ISOLATED_BUS, :]
    ids = Int.(bus[:, BUS_I])
    ids == Int.(side["bus_ids"]) || error("buses of $m_path and its sidecar differ")
    position = Dict(id => i for (i, id) in enumerate(ids))
    refs = findall(bus[:, BUS_TYPE] .== REF_BUS)

    gen = mpc["gen"]
    c2, c1, c0 = polynomial_costs(mpc["gencost"])
    live = [gen[g, GEN_STATUS] > 0 && !(gen[g, PMAX] == 0 && gen[g, PMIN] == 0) && haskey(position, Int(gen[g, GEN_BUS]))
            for g in axes(gen, 1)]
    units = side["generators"]
    count(live) == length(units["names"]) || error("$m_path has $(count(live)) units, its sidecar $(length(units["names"]))")

    branch = mpc["branch"]
    keep = [haskey(position, Int(branch[l, F_BUS])) && haskey(position, Int(branch[l, T_BUS])) for l in axes(branch, 1)]
    branch = branch[keep, :]
    r, x = branch[:, BR_R], branch[:, BR_X]
    lines = side["branches"]
    length(lines["names"]) == size(branch, 1) || error("$m_path has $(size(branch, 1)) branches, its sidecar $(length(lines["names"]))")

    loads = side["load_mw"]
    load_mw = [Float64(loads[t][n]) for t in eachindex(loads), n in eachindex(ids)]
    units = [String(c["label"]) for c in side["contingencies"] if haskey(c, "generator")]
    isempty(units) || error("unit outages $(units) are not ported to PowerLASCOPF.jl (branch outages only); use the Python solver")
    contingencies = [Contingency(Int(c["branch"]) + 1, String(c["label"])) for c in side["contingencies"]]

    return Case(
        String(side["name"]), base_mva, ids, isempty(refs) ? 1 : first(refs),
        [position[Int(b)] for b in branch[:, F_BUS]], [position[Int(b)] for b in branch[:, T_BUS]],
        (r .^ 2 .+ x .^ 2) ./ x, [v > 0 ? v : Inf for v in branch[:, RATE_A]], floats(lines["emergency_mw"]),
        branch[:, BR_STATUS] .> 0, String.(lines["names"]),
        [position[Int(b)] for b in gen[live, GEN_BUS]], c2[live], c1[live], c0[live],
        gen[live, PMIN], gen[live, PMAX], floats(units["ramp_up_mw"]), floats(units["ramp_down_mw"]),
        floats(units["p0_mw"]), String.(units["names"]),
        load_mw, contingencies, Float64(side["interval_minutes"]),
    )
end
