# Convenience wrapper around CMake presets and the scripts.
#   make demo        build (release) and run the showcase demo
#   make test        install missing Debian packages (make deps), then build
#                    and run everything CI runs (see scripts/test.sh)
#   make deps        install the Debian packages the build and tests need
#                    (scripts/deps.sh: apt-get, through sudo when not root)
#   make lib         library only (preset lib: no tests, benchmarks, examples)
#   make check       dev build + unit tests only (fast)
#   make bench       full benchmark run against Erlang, Go and CAF
#   make bench-quick smoke run of the benchmark harness
.PHONY: all demo deps lib test check asan tsan release bench bench-quick models clean

all: release

release:
	cmake --preset release >/dev/null && cmake --build --preset release -j2

lib:
	cmake --preset lib >/dev/null && cmake --build --preset lib

demo: release
	./build/release/examples/swarm_demo

check:
	cmake --preset dev >/dev/null && cmake --build --preset dev -j2 && ctest --preset dev

asan:
	cmake --preset asan >/dev/null && cmake --build --preset asan -j2 && ctest --preset asan

tsan:
	cmake --preset tsan >/dev/null && cmake --build --preset tsan -j2 && ctest --preset tsan

deps:
	./scripts/deps.sh

test: deps
	./scripts/test.sh

models: deps
	./models/check.sh

bench: deps
	python3 bench/run.py --full

bench-quick: deps
	python3 bench/run.py --quick

clean:
	rm -rf build
