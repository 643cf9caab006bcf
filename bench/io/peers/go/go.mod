module swarmrt.dev/bench/io/peers/go

go 1.19
