#!/usr/bin/env bash
# make conformance KUT_SRC=<kvm-unit-tests checkout>: kvmtool's arm64 test suite against
# bin/lkvm, and the same suite against QEMU TCG, side by side in CONFORMANCE.md.
#
# The suite is built twice into the ignored cache (cache/kut-kvmtool, cache/kut-qemu: its
# configure --target changes the console address) and never committed. Its scripts run
# unmodified except arm/run's host check: kvmtool needs /dev/kvm on an arm64 host, and
# lkvm needs neither. KUT_SRC may be a work tree or a bare git directory.
set -euo pipefail

src=${KUT_SRC:?"give the suite's source: make conformance KUT_SRC=/path/to/kvm-unit-tests"}
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/cache
out=${CONFORMANCE_OUT:-$top/CONFORMANCE.md}
jobs=${KUT_JOBS:-1}

copy_suite() { # $1: destination
  rm -rf "$1" && mkdir -p "$1"
  if git -C "$src" rev-parse --is-bare-repository 2>/dev/null | grep -q true; then
    git -C "$src" archive HEAD | tar -x -C "$1"
  else
    (cd "$src" && tar --exclude=.git -c .) | tar -x -C "$1"
  fi
}

build_suite() { # $1: destination, $2: configure --target
  copy_suite "$1"
  (cd "$1" && ./configure --arch=arm64 --cross-prefix=aarch64-linux-gnu- --target="$2" >/dev/null && make -j2 >build.log 2>&1) ||
    { echo "conformance: building the suite for $2 failed; see $1/build.log" >&2; exit 1; }
}

# The one change: arm/run's arch_run_kvmtool refuses a non-arm host and a host without KVM.
allow_any_host() {
  python3 - "$1/arm/run" <<'PY'
import re, sys
path = sys.argv[1]
s = open(path).read()
fn = s.index("function arch_run_kvmtool()")
body_end = s.index("\n}\n", fn)
body = s[fn:body_end]
body = re.sub(r'\tif \[ "\$HOST" != "arm" \].*?\n\tfi\n', "", body, flags=re.S)
body = re.sub(r'\tif ! kvm_available; then.*?\n\tfi\n', "", body, flags=re.S)
if "kvm_available" in body or '"$HOST" != "arm"' in body:
    sys.exit("conformance: arm/run's host check has changed shape; update tools/conformance.sh")
open(path, "w").write(s[:fn] + body + s[body_end:])
PY
}

run_suite() { # $1: suite directory, $2: log; the rest: environment
  local dir=$1 log=$2
  shift 2
  (cd "$dir" && env "$@" ./run_tests.sh -j "$jobs" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$log") || true
}

build_suite "$cache/kut-kvmtool" kvmtool
allow_any_host "$cache/kut-kvmtool"
build_suite "$cache/kut-qemu" qemu
# The suite caps vCPUs at the host's CPU count (MAX_SMP); its-trigger needs 4 and this machine
# has 2. Both emulators run vCPUs without host CPUs to match, so both get 4.
max_smp=${KUT_MAX_SMP:-4}
run_suite "$cache/kut-kvmtool" "$cache/kut-lkvm.log" TARGET=kvmtool KVMTOOL="$top/bin/lkvm" MAX_SMP="$max_smp"
run_suite "$cache/kut-qemu" "$cache/kut-qemu.log" ACCEL=tcg MAX_SMP="$max_smp"

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$cache/kut-lkvm.log" "$cache/kut-qemu.log" "$out" "$commit" "$(git -C "$top" rev-parse --short HEAD)" <<'PY'
import re, sys
lkvm_log, qemu_log, out, suite, ours = sys.argv[1:]
def results(path):
    r = {}
    for line in open(path):
        m = re.match(r"(PASS|FAIL|SKIP|XFAIL|XPASS) (\S+)(?: \((.*)\))?", line.strip())
        if m:
            r[m.group(2)] = (m.group(1), m.group(3) or "")
    return r
lk, qe = results(lkvm_log), results(qemu_log)
names = list(dict.fromkeys([*lk, *qe]))
count = lambda r, v: sum(1 for s, _ in r.values() if s == v)
rows = [
    "# Conformance: kvm-unit-tests (arm64)",
    "",
    "Written by `make conformance KUT_SRC=...` (tools/conformance.sh): the suite's own",
    "`run_tests.sh`, unmodified except arm/run's host check, with `TARGET=kvmtool KVMTOOL=bin/lkvm`,",
    "and the same suite built for QEMU and run with `ACCEL=tcg` (qemu-system-aarch64) on this machine;",
    "both with `MAX_SMP=4` (the suite's own cap on vCPUs, which defaults to the host's 2 CPUs).",
    f"Suite commit {suite}, lkvm commit {ours}.",
    "",
    f"| | PASS | FAIL | SKIP |",
    f"|---|---|---|---|",
    f"| lkvm | {count(lk, 'PASS')} | {count(lk, 'FAIL')} | {count(lk, 'SKIP')} |",
    f"| QEMU TCG | {count(qe, 'PASS')} | {count(qe, 'FAIL')} | {count(qe, 'SKIP')} |",
    "",
    "| test | lkvm | QEMU TCG |",
    "|---|---|---|",
]
cell = lambda r, n: (lambda s, d: f"{s} ({d})" if d else s)(*r.get(n, ("—", "")))
rows += [f"| {n} | {cell(lk, n)} | {cell(qe, n)} |" for n in names]
open(out, "w").write("\n".join(rows) + "\n")
print(f"conformance: lkvm {count(lk, 'PASS')} PASS, QEMU TCG {count(qe, 'PASS')} PASS -> {out}")
PY
