#!/bin/sh
# bench/run-sandbox.sh: builds runcell and the sandbox benchmark, then runs it.
#
#   bench/run-sandbox.sh [--quick] [--runs N] [--gap-ms N] ...   (see --help)
#
# `make bench` calls this after building build/runcell and build/bench-sandbox
# (bench/sandbox.c linked with every src object except main.o).  Run by hand,
# it asks make for those two first.  If make cannot link the benchmark (the
# sandbox library is incomplete), it builds bench/sandbox.c alone into
# build/bench/sandbox: the warm cell is then skipped with a note, as is
# runcell when build/runcell is missing.
#   BENCH_BIN=path   run this benchmark binary, build nothing
#   RUNCELL=path     the runcell binary to measure (default build/runcell);
#                    a bench-sandbox next to it is run as is
set -eu
cd "$(dirname "$0")/.."

bin=${BENCH_BIN:-}
# From `make bench`: the benchmark was built next to $RUNCELL (build/ or build-asan/).
if [ -z "$bin" ] && [ -n "${RUNCELL:-}" ] && [ -x "$(dirname "$RUNCELL")/bench-sandbox" ]; then
	bin=$(dirname "$RUNCELL")/bench-sandbox
fi
if [ -z "$bin" ]; then
	make -s build/runcell >&2 ||
		echo "run-sandbox: note: make build/runcell failed; runcell will be skipped" >&2
	if make -s build/bench-sandbox >&2; then
		bin=build/bench-sandbox
	else
		echo "run-sandbox: note: build/bench-sandbox does not link yet;" \
		     "building bench/sandbox.c without the sandbox library" >&2
		mkdir -p build/bench
		${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Isrc -o build/bench/sandbox bench/sandbox.c
		bin=build/bench/sandbox
	fi
fi
exec "$bin" "$@"
