#!/usr/bin/env bash
# scripts/deps.sh - the Debian packages SwarmRT's build and tests need, in
# one place (`make deps`, `make test` and .ci/run all read this list).
#
#   scripts/deps.sh            install the packages that are missing (apt-get
#                              update + apt-get install -y; through sudo when
#                              not root); does nothing when all are present
#   scripts/deps.sh --list     print the package names, one a line
#   scripts/deps.sh --missing  print the missing ones (exit 1 if any)
#
# On a system without dpkg (not Debian or a derivative) it installs nothing:
# it prints the list as a hint and exits 0, so the build can still try with
# what the system has.
set -euo pipefail

# package        what needs it
packages=(
    build-essential # gcc, make, libc headers: the library and every test
    cmake           # the build (3.22 or newer)
    pkg-config      # tests/install_test.sh builds a program with pkg-config
    libssl-dev      # TLS (src/tls/): OpenSSL 3's headers and libraries
    openssl         # /usr/bin/openssl: tests/tls_test.c makes certificates, runs s_server and s_client
    g++             # the C++ header check, the CAF peer
    python3         # bench/run.py (the benchmark smoke run), docs/guide check
    time            # /usr/bin/time: peak RSS in the benchmark harness
    spin            # models/check.sh: the Spin models
    erlang-nox      # the Erlang benchmark peer
    golang-go       # the Go benchmark peer
    libcaf-dev      # the CAF benchmark peer
    gnuplot-nox     # the benchmark plot
    wrk             # the HTTP load generator of bench/io/run_io.py
)

missing() {
    local p
    for p in "${packages[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]]; then
            echo "$p"
        fi
    done
}

case "${1:-}" in
--list)
    printf '%s\n' "${packages[@]}"
    exit 0
    ;;
--missing)
    command -v dpkg-query >/dev/null || { printf '%s\n' "${packages[@]}"; exit 1; }
    m=$(missing)
    [[ -z "$m" ]] || { echo "$m"; exit 1; }
    exit 0
    ;;
"") ;;
-h | --help)
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "deps.sh: unknown argument $1 (see --help)" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query >/dev/null; then
    echo "deps.sh: no dpkg here; install the equivalents of: ${packages[*]}" >&2
    exit 0
fi
mapfile -t need < <(missing)
if ((${#need[@]} == 0)); then
    echo "deps.sh: all ${#packages[@]} packages present"
    exit 0
fi
echo "deps.sh: installing ${need[*]}"
sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || {
        echo "deps.sh: not root and no sudo: run as root: apt-get install -y ${need[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
