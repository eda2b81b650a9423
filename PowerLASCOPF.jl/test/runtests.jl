# PowerLASCOPF.jl against the platform's Python solver: golden fixtures written by
# `python -m data_engineering.solver.julia.golden` (case as exported, options, the Python answer).
using JSON
using PowerLASCOPF
using Test

const FIXTURES = joinpath(@__DIR__, "fixtures")
const GOLDEN = ("paper5", "case5_pjm_ramps", "case24_rts_ramps")

fixture(name, suffix) = joinpath(FIXTURES, name * suffix)
options_of(name) = PowerLASCOPF.Options(JSON.parsefile(fixture(name, ".options.json")))
max_gap(a, b) = maximum(abs(x - y) for (x, y) in zip(a, b))

@testset "PowerLASCOPF.jl" begin
    @testset "reads the exported case" begin
        case = read_case(fixture("paper5", ".m"))
        @test case.name == "paper5"
        @test size(case.load_mw) == (5, 5)
        @test case.gen_names == ["G1", "G2"]
        @test case.c2 ≈ [0.0430293, 0.25]
        @test case.ramp_up_mw ≈ [20.0, 15.0]
        @test case.x_pu ≈ [0.06, 0.24, 0.18, 0.18, 0.12, 0.03, 0.24]
        @test [c.label for c in case.contingencies] == ["outage 2-3", "outage 2-4", "outage 2-5", "outage 3-4", "outage 4-5"]
    end

    @testset "network sensitivities" begin
        case = read_case(fixture("paper5", ".m"))
        network = PowerLASCOPF.build_network(case)
        injection = [100.0, -20.0, -30.0, -10.0, -40.0]
        flows = network.ptdf * injection
        # Kirchhoff's current law at every bus, and the outage of 1-2 moves all its flow elsewhere.
        net_out = zeros(5)
        for (l, f) in enumerate(flows)
            net_out[case.from_bus[l]] += f
            net_out[case.to_bus[l]] -= f
        end
        @test net_out ≈ injection atol = 1e-9
        post = PowerLASCOPF.post_contingency_ptdf(network, 1) * injection
        @test abs(post[1]) < 1e-9
        @test post ≈ flows .+ network.lodf[:, 1] .* flows[1] atol = 1e-9
    end

    @testset "refuses what it has not ported, by name" begin
        doc = JSON.parsefile(fixture("paper5", ".options.json"))
        @test_throws ErrorException PowerLASCOPF.Options(merge(doc, Dict("mode" => "corrective")))
        @test_throws ErrorException PowerLASCOPF.Options(merge(doc, Dict("islanding" => "shed")))
        @test PowerLASCOPF.Options(merge(doc, Dict("mode" => "preventive"))).method == doc["method"]
        case = read_case(fixture("paper5", ".m"))
        @test !any(PowerLASCOPF.cut_off(case, case.in_service))
        @test PowerLASCOPF.cut_off(case, [false, false, true, true, true, true, true]) == [false, true, true, true, true]
    end

    for name in GOLDEN
        @testset "golden $name" begin
            expected = JSON.parsefile(fixture(name, ".expected.json"))
            got = JSON.parse(solve_files(fixture(name, ".m"), fixture(name, ".json"), read(fixture(name, ".options.json"), String)))
            @test got["status"] == "optimal"
            @test got["max_violation_pu"] <= 1e-3
            @test isapprox(got["objective"], expected["objective"]; rtol=1e-4)
            @test Set(keys(got["dispatch"])) == Set(keys(expected["dispatch"]))
            case = read_case(fixture(name, ".m"))
            if all(case.c2 .> 0)  # strictly convex: the dispatch and its prices are unique
                for (unit, values) in expected["dispatch"]
                    @test max_gap(got["dispatch"][unit], values) <= 0.05
                end
                for (bus, values) in expected["lmp"]
                    @test max_gap(got["lmp"][bus], values) <= 0.05 + 1e-3 * maximum(abs, values)
                end
                @test Set(got["binding_contingencies"]) == Set(expected["binding_contingencies"])
            end
        end
    end

    @testset "ADMM agrees with the centralized solve" begin
        for name in GOLDEN
            case = read_case(fixture(name, ".m"))
            admm = solve(case, options_of(name))
            central = solve(case, PowerLASCOPF.Options(method="centralized"))
            @test central["status"] == "optimal"
            @test isapprox(admm["objective"], central["objective"]; rtol=1e-4)
        end
    end

    @testset "an infeasible horizon is reported, not hidden" begin
        case = read_case(fixture("paper5", ".m"))
        case.load_mw[3, :] .*= 1.6  # a jump no unit can ramp to
        result = solve(case, options_of("paper5"))
        @test result["status"] in ("infeasible", "not_converged")
        @test result["objective"] === nothing
        @test isempty(result["dispatch"])
    end

    @testset "options documents are checked" begin
        @test_throws ErrorException PowerLASCOPF.Options(Dict{String,Any}("method" => "admm"))
        @test_throws ErrorException PowerLASCOPF.Options(Dict{String,Any}("format" => "lascopf-julia-options/1", "workers" => 4))
        @test_throws ErrorException PowerLASCOPF.Options(Dict{String,Any}("format" => "lascopf-julia-options/1", "method" => "newton"))
    end
end
