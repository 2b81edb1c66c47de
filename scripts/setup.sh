#!/bin/sh
# setup.sh - installs the Debian packages crmscope builds, tests and runs with.
# Idempotent and quick when everything is present: it asks dpkg first and
# calls apt-get only for what is missing. Used by `make demo` and `make test`.
set -eu

PKGS="gcc make pkg-config clang libclang-rt-14-dev sqlite3 libsqlite3-dev \
libgsl-dev libjansson-dev libmicrohttpd-dev libutf8proc-dev libsodium-dev \
libcriterion-dev libjs-chart.js"
# benchmarks only: python3-numpy (the shared order generator), hyperfine, GNU
# time (peak memory); Node.js with npm runs DuckDB beside us (the machine's own
# node and npm are used when present: Debian's npm conflicts with them)
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS python3-numpy hyperfine time"
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q $missing >/dev/null; then
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q $missing >/dev/null
fi
