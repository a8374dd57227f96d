#!/bin/sh
# bench/run-sandbox.sh: builds runcell and the sandbox benchmark, then runs it.
#
#   bench/run-sandbox.sh [--quick] [--runs N] [--gap-ms N] ...   (see --help)
#
# `make bench` calls this.  When BENCH_BIN names an already built benchmark
# (the Makefile's rule), it is run as is; otherwise this script builds
# build/runcell with `make` and links bench/sandbox.c with every src/**/*.c
# except main.c into build/bench/sandbox.  If that link fails (the sandbox
# library is still incomplete), the benchmark is built alone and the warm
# cell is skipped with a note; a missing build/runcell is skipped the same way.
set -eu
cd "$(dirname "$0")/.."

CC=${CC:-cc}
CFLAGS=${CFLAGS:--std=gnu11 -O2 -Wall -Wextra}
LDLIBS=${LDLIBS:-}

bin=${BENCH_BIN:-}
if [ -z "$bin" ]; then
	if [ -f Makefile ]; then
		make -s >&2 || echo "run-sandbox: note: make failed; runcell may be skipped" >&2
	fi
	bin=build/bench/sandbox
	mkdir -p build/bench
	srcs=$(find src -name '*.c' ! -name main.c | sort)
	# shellcheck disable=SC2086  # word splitting of flags and file list is wanted
	if ! $CC $CFLAGS -Isrc -o "$bin" bench/sandbox.c $srcs $LDLIBS 2>build/bench/link.log; then
		echo "run-sandbox: note: bench/sandbox.c does not link with src/ yet" \
		     "(build/bench/link.log); building it without the sandbox library" >&2
		# shellcheck disable=SC2086
		$CC $CFLAGS -Isrc -o "$bin" bench/sandbox.c $LDLIBS
	elif [ -s build/bench/link.log ]; then
		cat build/bench/link.log >&2
	fi
fi
exec "$bin" "$@"
