#!/bin/sh
# Installs the Debian packages tokenq needs, only those missing.
#   scripts/deps.sh build   what `make` and `make run` need
#   scripts/deps.sh test    the above, plus PostgreSQL, pytest, jsonschema and the browser
#   scripts/deps.sh bench   the above, plus wrk and gnuplot
set -eu

build="gcc make pkg-config libc6-dev libmicrohttpd-dev libjansson-dev libpq-dev libsqlite3-dev libqrencode-dev libcurl4-openssl-dev libharfbuzz-dev libfreetype-dev libfribidi-dev ca-certificates tzdata"
test="$build libcmocka-dev postgresql postgresql-client python3 python3-pytest python3-jsonschema chromium nodejs npm curl zbar-tools clang libclang-rt-14-dev valgrind sqlite3 librsvg2-bin fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core python3-pil"
bench="$test wrk gnuplot-nox"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
bench) want=$bench ;;
*) echo "usage: scripts/deps.sh build|test|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	# Node.js may come from another package that bundles npm: then it is there.
	case $p in nodejs | npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tokenq needs these Debian packages:$missing; run this script as root, or install them with apt-get." >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
