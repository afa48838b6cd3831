#!/bin/sh
# Checks that dependencies point one way: no source file includes a header
# from a layer above its own (docs/architecture.md draws the layers), and
# the store's backend table (store/store-internal.h) is included only inside
# src/store/ and by the store's contract tests.
#
#   scripts/check-layers.sh        prints each offending #include; exit 1 if any
#
# Layers, lowest first: util, then store, hooks and print (side by side,
# none of them including another), then domain, http, cli, and main.c.
set -u
cd "$(dirname "$0")/.."

rank() {
	case "$1" in
	util) echo 1 ;;
	store | hooks | print) echo 2 ;;
	domain) echo 3 ;;
	http) echo 4 ;;
	cli) echo 5 ;;
	main) echo 6 ;;
	*) echo 0 ;;
	esac
}

bad=0
for f in src/main.c src/*/*.c src/*/*.h; do
	[ -f "$f" ] || continue
	case "$f" in
	src/main.c) layer=main ;;
	*) layer=$(echo "$f" | cut -d/ -f2) ;;
	esac
	mine=$(rank "$layer")
	if [ "$mine" = 0 ]; then
		echo "$f: the folder src/$layer is not a known layer (scripts/check-layers.sh)"
		bad=1
		continue
	fi
	grep -n '^#include "' "$f" | while IFS= read -r line; do
		inc=$(echo "$line" | sed 's/^[0-9]*:#include "\([^"]*\)".*/\1/')
		num=${line%%:*}
		dir=${inc%%/*}
		[ "$dir" = "$layer" ] && continue
		theirs=$(rank "$dir")
		if [ "$theirs" = 0 ] || [ "$theirs" -ge "$mine" ]; then
			echo "$f:$num: includes $inc, from a layer not below $layer"
		fi
	done
done >/tmp/check-layers.$$
[ -s /tmp/check-layers.$$ ] && bad=1 && cat /tmp/check-layers.$$
rm -f /tmp/check-layers.$$

# The backend table is the store's own.
grep -ln '#include "store/store-internal.h"' src/*/*.c src/*/*.h src/main.c tests/*/*.c tests/*/*.h 2>/dev/null |
	grep -v -e '^src/store/' -e '^tests/store/' | while IFS= read -r f; do
	echo "$f: includes store/store-internal.h, which is private to src/store/"
done | grep . && bad=1

if [ "$bad" -ne 0 ]; then
	echo "check-layers: dependencies must point down: cli -> http -> domain -> store, hooks, print -> util"
	exit 1
fi
echo "check-layers: every #include points down a layer"
