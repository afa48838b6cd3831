#!/bin/sh
# The soak run (make soak; not part of make test or CI): SOAK_MINUTES
# (default 30) of mixed traffic with 200 reconnecting event-stream clients,
# the server restarted every SOAK_ROLL_MINUTES (default 10) with a new
# TOKENQ_DAY_START so that business dates roll over (live, mid-segment, and
# at each restart). RSS, open descriptors, connections and threads are
# sampled every 10 s, the live heap once a minute (gdb; SOAK_HEAP=0 to skip),
# into a table (stdout and build/soak/soak.csv) and a plot
# (build/soak/soak.png, with gnuplot), and the run ends with a verdict:
# flat or growing. See tests/soak/soak.py for the details and options.
#
#   SOAK_MINUTES=3 tests/soak/soak.sh                         a short check of the script
#   tests/soak/soak.py --report build/soak                    the verdict and plot again
#   SOAK_BACKEND=postgres tests/soak/soak.sh                  on PostgreSQL
#     (TOKENQ_TEST_PG, or a cluster of its own on 55501-55509)
set -eu
cd "$(dirname "$0")/../.."
B=${B:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$B/tokenq" ] || make --no-print-directory all
export TOKENQ_BIN="$PWD/$B/tokenq"
mkdir -p "$B/soak"
exec "$PYTHON" tests/soak/soak.py --out "${SOAK_OUT:-$B/soak}" "$@"
