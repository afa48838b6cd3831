#!/bin/sh
# Runs the libFuzzer targets (see mk/hardening.mk and tests/fuzz/*.c).
#
#   tests/fuzz/run.sh short     about 20 s per target (FUZZ_SHORT_SECONDS, default 18); what `make test` runs
#   tests/fuzz/run.sh long      FUZZ_SECONDS per target (default 60); what `make fuzz` runs
#   tests/fuzz/run.sh replay    only the regression inputs and seeds, once each
#
# Environment: FUZZ_TARGETS (default: order token route config http),
# FUZZ_DIR (default build/fuzz: binaries, the growing work corpora in
# FUZZ_DIR/work/TARGET and crash artifacts in FUZZ_DIR/crashes/TARGET),
# FUZZ_NO_BUILD=1 to skip `make fuzz-build`.
#
# Every run first replays tests/fuzz/regressions/TARGET/ (inputs that once
# crashed; a crash found now belongs there once it is fixed), then fuzzes
# from the seeds in tests/fuzz/corpus/TARGET/ (and, in long runs, the work
# corpus that earlier long runs grew).
# Prints one line per target with its executions, and exits 1 when any
# target crashed, leaked, hit undefined behaviour or timed out.
set -u
cd "$(dirname "$0")/../.." || exit 1
mode=${1:-short}
case $mode in
short) secs=${FUZZ_SHORT_SECONDS:-18} ;;
long) secs=${FUZZ_SECONDS:-60} ;;
replay) secs=0 ;;
*)
	echo "usage: tests/fuzz/run.sh short|long|replay" >&2
	exit 2
	;;
esac
targets=${FUZZ_TARGETS:-order token route config http}
dir=${FUZZ_DIR:-build/fuzz}

if [ "${FUZZ_NO_BUILD:-}" != 1 ]; then
	# A clean sub-make: not the parent's SANITIZE (the fuzz build has its own
	# sanitizers) nor its jobserver.
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s -j2 SANITIZE= \
		fuzz-build >"${TMPDIR:-/tmp}/tokenq-fuzz-build.$$.log" 2>&1; then
		tail -30 "${TMPDIR:-/tmp}/tokenq-fuzz-build.$$.log"
		rm -f "${TMPDIR:-/tmp}/tokenq-fuzz-build.$$.log"
		echo "fuzz: build failed (make fuzz-build; needs clang and libclang-rt-14-dev)"
		exit 1
	fi
	rm -f "${TMPDIR:-/tmp}/tokenq-fuzz-build.$$.log"
fi

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp"

failed=""
total=0
printf '%-8s %10s %8s %8s  %s\n' target execs exec/s corpus result
for t in $targets; do
	bin=$dir/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing (make fuzz-build)"
		failed="$failed $t"
		continue
	fi
	work=$dir/work/$t
	crashes=$dir/crashes/$t
	log=$dir/$t.log
	mkdir -p "$work" "$crashes"
	opts="-timeout=10 -rss_limit_mb=2048 -print_final_stats=1"
	case $t in
	order) opts="$opts -dict=tests/fuzz/dict/json.dict" ;;
	http) opts="$opts -timeout=30 -close_fd_mask=2 -dict=tests/fuzz/dict/http.dict" ;;
	esac

	# 1. The regression inputs (and, in replay mode, the seeds), once each.
	#    In the other modes the seeds are run first thing by the fuzzing below.
	replay=""
	[ -d "tests/fuzz/regressions/$t" ] && replay=$(find "tests/fuzz/regressions/$t" -type f ! -name '*.md' | sort)
	[ "$secs" -eq 0 ] && replay="$replay $(find "tests/fuzz/corpus/$t" -type f | sort)"
	# shellcheck disable=SC2086
	nrep=$(printf '%s\n' $replay | grep -c . || true)
	# shellcheck disable=SC2086
	if [ "$nrep" -gt 0 ] && ! "$bin" $opts -artifact_prefix="$crashes/" $replay >"$log" 2>&1; then
		printf '%-8s %10s %8s %8s  %s\n' "$t" - - - "FAILED on a regression input or seed"
		grep -E "ERROR|runtime error|fuzz check|SUMMARY|Running:" "$log" | tail -15
		echo "  full log: $log"
		failed="$failed $t"
		continue
	fi
	if [ "$secs" -eq 0 ]; then
		printf '%-8s %10s %8s %8s  %s\n' "$t" - - - "ok ($nrep inputs replayed)"
		continue
	fi

	# A short run starts from the seeds alone: the work corpus of long runs
	# grows, and loading it would eat a short run's time.
	if [ "$mode" = short ]; then
		work=$(mktemp -d "${TMPDIR:-/tmp}/tokenq-fuzz-$t.XXXXXX")
	fi

	# 2. Fuzzing.
	# shellcheck disable=SC2086
	"$bin" $opts -max_total_time="$secs" -artifact_prefix="$crashes/" "$work" \
		"tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	corpus=$(find "$work" -type f | wc -l)
	execs=${execs:-0}
	total=$((total + execs))
	if [ "$rc" -ne 0 ]; then
		printf '%-8s %10s %8s %8s  %s\n' "$t" "$execs" "${rate:--}" "$corpus" "CRASH (exit $rc)"
		grep -E "ERROR|runtime error|fuzz check|SUMMARY|Test unit written|artifact" "$log" | tail -15
		echo "  full log: $log"
		# shellcheck disable=SC2012
		echo "  reproduce: $bin $opts $(ls -t "$crashes"/* 2>/dev/null | head -1)"
		echo "  once fixed, copy the input into tests/fuzz/regressions/$t/"
		failed="$failed $t"
	else
		printf '%-8s %10s %8s %8s  %s\n' "$t" "$execs" "${rate:--}" "$corpus" "ok ($nrep regressions replayed)"
	fi
	[ "$mode" = short ] && rm -rf "$work"
done
[ "$secs" -gt 0 ] && echo "fuzz: $total executions in total, $secs s per target"
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed"
	exit 1
fi
exit 0
