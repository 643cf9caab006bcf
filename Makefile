# Convenience wrapper around CMake presets and the scripts.
#   make demo        build (release) and run the showcase demo
#   make test        build and run everything CI runs (see scripts/test.sh)
#   make check       dev build + unit tests only (fast)
#   make bench       full benchmark run against Erlang, Go and CAF
#   make bench-quick smoke run of the benchmark harness
.PHONY: all demo test check asan tsan release bench bench-quick models clean

all: release

release:
	cmake --preset release >/dev/null && cmake --build --preset release -j2

demo: release
	./build/release/examples/swarm_demo

check:
	cmake --preset dev >/dev/null && cmake --build --preset dev -j2 && ctest --preset dev

asan:
	cmake --preset asan >/dev/null && cmake --build --preset asan -j2 && ctest --preset asan

tsan:
	cmake --preset tsan >/dev/null && cmake --build --preset tsan -j2 && ctest --preset tsan

test:
	./scripts/test.sh

models:
	./models/check.sh

bench:
	python3 bench/run.py --full

bench-quick:
	python3 bench/run.py --quick

clean:
	rm -rf build
