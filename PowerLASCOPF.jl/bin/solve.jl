# julia --project=PowerLASCOPF.jl PowerLASCOPF.jl/bin/solve.jl CASE.m OPTIONS.json OUT.json
using PowerLASCOPF

PowerLASCOPF.main(ARGS)
