#!/bin/sh
# check.sh - what `make test` runs, in order, with one closing line.
#
#   1. lint (clang-format + cppcheck)        counted as 1 check
#   2. the runner's own unit tests           (test/runner_selftest.py)
#   3. host tests: DT reader vs fdtget, corrupt DTBs under ASan/UBSan
#   4. image checks: crash paths (panic, fault, stack overflow, bad DTB)
#      and console input through the UART interrupt
#   5. the shell over a pty (test/shell_test.py): every command, garbage,
#      poweroff
#   6. the quick subset of the mutants (test/mutants.py --quick): the
#      tests must fail on a kernel that breaks a rule
#   7. a short bench run (SMP 2, few iterations): every figure present
#      and positive, so the bench cannot rot; no timing is asserted
#   8. the test image over the QEMU matrix   (test/matrix.py)
# The last line is "N passed, N failed" over all of them; the exit
# status is non-zero if anything failed. ONLY=SMP=4,FW=jump,IRQ=aia
# (what make test SMP=4 FW=jump IRQ=aia sets) runs that one configuration
# of the matrix and nothing else.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
passed=0
failed=0

# Add the counts from the "N passed, N failed" line at the end of $1.
add_counts() {
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ -z "$line" ]; then p=0; f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
}

mkdir -p "$BUILD/test"
if [ -n "${ONLY:-}" ]; then
	echo "== one configuration ($ONLY); plain 'make test' runs every check"
	# shellcheck disable=SC2086
	exec $PYTHON test/matrix.py --image "$BUILD/hartstop-test.elf" \
		--log-dir "$BUILD/test/logs" --only "$ONLY" ${APPEND:+--append "$APPEND"}
fi
echo "== lint"
if make --no-print-directory lint; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== runner self-test"
$PYTHON test/runner_selftest.py > "$BUILD/test/runner_selftest.log" 2>&1
tail -n 1 "$BUILD/test/runner_selftest.log"
add_counts "$BUILD/test/runner_selftest.log"

echo "== host tests"
make --no-print-directory host-test 2>&1 | tee "$BUILD/test/host.log" | tail -n 5
add_counts "$BUILD/test/host.log"

echo "== image checks"
$PYTHON test/image_checks.py --image "$BUILD/hartstop-test.elf" \
	--default-image "$BUILD/hartstop.elf" > "$BUILD/test/crash.log" 2>&1
cat "$BUILD/test/crash.log"
add_counts "$BUILD/test/crash.log"

echo "== shell"
$PYTHON test/shell_test.py --image "$BUILD/hartstop.elf" > "$BUILD/test/shell.log" 2>&1
cat "$BUILD/test/shell.log"
add_counts "$BUILD/test/shell.log"

echo "== mutants (quick subset; make mutants runs them all)"
$PYTHON test/mutants.py --quick > "$BUILD/test/mutants.log" 2>&1
cat "$BUILD/test/mutants.log"
add_counts "$BUILD/test/mutants.log"

echo "== short bench"
$PYTHON test/bench.py --image "$BUILD/hartstop-bench.elf" --smp 2 --iters 30 --check \
	--out "$BUILD/test/bench" > "$BUILD/test/bench.log" 2>&1
tail -n 3 "$BUILD/test/bench.log"
add_counts "$BUILD/test/bench.log"

echo "== QEMU matrix"
# shellcheck disable=SC2086
$PYTHON test/matrix.py --image "$BUILD/hartstop-test.elf" --log-dir "$BUILD/test/logs" \
	${ONLY:+--only "$ONLY"} ${APPEND:+--append "$APPEND"} \
	--extra-passed "$passed" --extra-failed "$failed"
