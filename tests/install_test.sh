#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR - build the library-only preset
# (`lib`) and install it into a scratch prefix, as the README says, then
# build examples/hello.c (C) and examples/hello.cpp (C++) against it twice
# each: with pkg-config and with the CMake package (find_package(swarmrt)).
# All four programs must print "hello".
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The README's install commands (preset lib: the library alone), in a
# scratch tree: configure, build, install.
cmake -S "$src" -B "$tmp/lib" --preset lib >/dev/null
cmake --build "$tmp/lib" -j2 >/dev/null
cmake --install "$tmp/lib" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name swarmrt.pc)
export PKG_CONFIG_PATH=$(dirname "$pc")
cc "$src/examples/hello.c" -o "$tmp/hello_pc" $(pkg-config --cflags --libs swarmrt) \
    -Wl,-rpath,"$(pkg-config --variable=libdir swarmrt)"
[ "$("$tmp/hello_pc")" = hello ]
cxx=${CXX:-c++}
"$cxx" -std=c++17 -Wall -Wextra -pedantic -Werror "$src/examples/hello.cpp" -o "$tmp/hello_pc_cxx" \
    $(pkg-config --cflags --libs swarmrt) -Wl,-rpath,"$(pkg-config --variable=libdir swarmrt)"
[ "$("$tmp/hello_pc_cxx")" = hello ]
mkdir "$tmp/user"
cat >"$tmp/user/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.22)
project(user C CXX)
find_package(swarmrt REQUIRED)
add_executable(hello "$src/examples/hello.c")
target_link_libraries(hello swarmrt::swarmrt_static)
add_executable(hello_cxx "$src/examples/hello.cpp")
set_target_properties(hello_cxx PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
target_compile_options(hello_cxx PRIVATE -Wall -Wextra -pedantic -Werror)
target_link_libraries(hello_cxx swarmrt::swarmrt)
CMAKE
cmake -S "$tmp/user" -B "$tmp/user/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/user/build" >/dev/null
[ "$("$tmp/user/build/hello")" = hello ]
[ "$("$tmp/user/build/hello_cxx")" = hello ]
echo "install: pkg-config and CMake package both work, from C and from C++"
