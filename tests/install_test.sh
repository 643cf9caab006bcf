#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR - install the build into a scratch
# prefix, then build examples/hello.c against it twice: with pkg-config and
# with the CMake package (find_package(swarmrt)). Both programs must print
# "hello".
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name swarmrt.pc)
export PKG_CONFIG_PATH=$(dirname "$pc")
cc "$src/examples/hello.c" -o "$tmp/hello_pc" $(pkg-config --cflags --libs swarmrt) \
    -Wl,-rpath,"$(pkg-config --variable=libdir swarmrt)"
[ "$("$tmp/hello_pc")" = hello ]
mkdir "$tmp/user"
cat >"$tmp/user/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.22)
project(user C)
find_package(swarmrt REQUIRED)
add_executable(hello "$src/examples/hello.c")
target_link_libraries(hello swarmrt::swarmrt_static)
CMAKE
cmake -S "$tmp/user" -B "$tmp/user/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/user/build" >/dev/null
[ "$("$tmp/user/build/hello")" = hello ]
echo "install: pkg-config and CMake package both work"
