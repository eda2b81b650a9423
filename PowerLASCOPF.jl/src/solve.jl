# Entry points: case → model → algorithm → result document, and the file-in, JSON-out call the platform
# makes through juliacall (`solve_files`) or from the command line (`main`).

"""
    solve(case, options=Options()) -> Dict

Solve the LASCOPF with the options' method (`admm` or `centralized`); the platform's result document.
"""
function solve(case::Case, options::Options=Options())
    start = time()
    m = build_problem(case, options)
    out = options.method == "centralized" ? solve_centralized(m, options) : solve_admm(m, options)
    return result_json(m, options, out, time() - start)
end

"""
    solve_files(m_path, sidecar_path, options_json) -> String

What the platform calls (`SOLVER_BACKEND=julia`): an exported case and a `lascopf-julia-options/1`
document in, the result JSON out.
"""
function solve_files(m_path::AbstractString, sidecar_path::AbstractString, options_json::AbstractString)
    return JSON.json(solve(read_case(m_path, sidecar_path), Options(JSON.parse(options_json))))
end

"""
    main(args)

`julia --project=PowerLASCOPF.jl bin/solve.jl CASE.m OPTIONS.json OUT.json` (the sidecar is CASE.json).
"""
function main(args::Vector{String})
    length(args) == 3 || error("usage: solve.jl CASE.m OPTIONS.json OUT.json")
    m_path, options_path, out_path = args
    write(out_path, solve_files(m_path, splitext(m_path)[1] * ".json", read(options_path, String)))
    return nothing
end
