#!/usr/bin/env bash
# Installs the Debian packages runcell builds, tests and benchmarks with.
# Idempotent: asks apt only for what is missing, so a second run is quick.
set -euo pipefail

packages=(
	gcc make libc6-dev          # build
	musl-tools                  # build/runcell, the front binary (see Makefile)
	libsqlite3-dev              # the store (linked statically)
	libmbedtls-dev              # TLS for https:// callbacks (linked statically)
	ca-certificates             # the system trust store for https:// callbacks
	openssl                     # test certificates for the https callback tests
	python3                     # test drivers, Python hostile programs
	python3-dev                 # libpython for build/runcell-python, the preloaded Python
	curl                        # the examples of README.md and docs/API.md (tests/api)
	bubblewrap hyperfine        # benchmark baselines
	qemu-system-x86 cpio        # cgroup v2 tests in a small KVM guest
	openjdk-17-jdk-headless     # a JVM under the cell's memory limit (tests)
	golang-go                   # a Go binary under the cell's memory limit (tests)
	strace
	# languages of etc/languages (runcell exec, runcell languages)
	g++ nodejs rustc bash ruby php-cli lua5.4
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
