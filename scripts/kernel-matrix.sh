#!/usr/bin/env bash
# The kernel matrix: the kernel suite on this machine's kernel, then inside the newest Debian 6.1 and 6.12
# kernels (chosen from the package index at run time, cached in out/kernels), each booted under qemu (TCG)
# with this checkout shared. Fails (exit 1) when any kernel's suite fails, with a summary table either way.
#   scripts/kernel-matrix.sh [host|6.1|6.12 ...]   (default: all three)
# Needs root (BPF, apt-get). Installs qemu-system-x86, busybox-static, zstd when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/out/kernels
mkdir -p "$CACHE"
KERNELS=("$@")
[ ${#KERNELS[@]} -gt 0 ] || KERNELS=(host 6.1 6.12)

# The suite: the exact fixture capture of test/record.test.ts, every act of test/observe.test.ts, and
# test/kernels/ (doctor against record, the pre-opened /proc/PID/mem read, the loader variables of every exec,
# drops under a tiny ring buffer), and
# the evasion routes' rows (test/adversarial/evasion-*: signal_generate, pkey_mprotect/shmat, the fd/ and
# map_files/ links through kprobe/proc_pid_get_link where kprobes attach). One vitest start:
# each node start costs 5-20 s under emulation.
SUITE=(node_modules/vitest/vitest.mjs run --reporter=verbose --testTimeout=900000 --hookTimeout=900000
  test/record.test.ts test/observe.test.ts test/kernels/ test/adversarial/evasion-signals.test.ts
  test/adversarial/evasion-exec-memory.test.ts test/adversarial/evasion-proc-links.test.ts
  -t 'records exactly the fixture|acts of other processes|system-wide events|inside the target|kernel suite|by every route|fd/ and map_files/ links')
# Under qemu's emulated CPU, V8 crashes walking the stack when Liftoff code asks to tier WebAssembly up
# (parquet-wasm's hot loops: "Check failed: maybe_code.has_value()" in Runtime_WasmTriggerTierUp), and its
# signal-based wasm bounds checks misfire there ("memory access out of bounds" in parquet-wasm). So: baseline
# compiler only, with no tier-up budget checks at all (--no-wasm-tier-up alone still runs dynamic tiering's
# checks), explicit bounds checks. The tests pass GPO_TEST_NODE_ARGS on to the gpo processes they start
# (test/helpers/gpo.ts); vitest's workers (they read traces) get them through --execArgv.
GUEST_FLAGS=(--no-wasm-tier-up --no-wasm-dynamic-tiering --wasm-enforce-bounds-checks)
GUEST_NODE=(node "${GUEST_FLAGS[@]}")
GUEST_WORKER_ARGS=("${GUEST_FLAGS[@]/#/--execArgv=}")
GUEST_NODE_ARGS="${GUEST_FLAGS[*]}"

need_tools() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || missing+=(busybox-static)
  command -v zstd >/dev/null || missing+=(zstd)
  command -v strings >/dev/null || missing+=(binutils)
  command -v file >/dev/null || missing+=(file)
  [ ${#missing[@]} -eq 0 ] || apt-get install -y "${missing[@]}" >&2
}

# The newest package matching a regex, from the package index (updated once if it knows none).
newest() {
  local found
  found=$(apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -1)
  if [ -z "$found" ]; then
    apt-get update >&2
    found=$(apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -1)
  fi
  [ -n "$found" ] || { echo "kernel-matrix: no package matches $1 in the package index" >&2; return 1; }
  echo "$found"
}

deb_of() {
  local pkg=$1 deb
  deb=$(ls -t "$CACHE/${pkg}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    (cd "$CACHE" && for i in 1 2 3; do apt-get download "$pkg" >&2 && break; sleep 5; done)
    deb=$(ls -t "$CACHE/${pkg}_"*.deb | head -1)
  fi
  echo "$deb"
}

# Boots one guest; sets rc and log (its console log).
guest() {
  log=$CACHE/console-$(basename "$1" .deb)-$(date +%Y%m%d-%H%M%S).log
  set +e; KM_WORK=$CACHE KM_LOG=$log KM_TIMEOUT=${KM_TIMEOUT:-1500} bash scripts/kernel-matrix/run-kernel.sh "$1" "$2"; rc=$?; set -e
}

declare -a SUMMARY=()
failed=0
for k in "${KERNELS[@]}"; do
  t0=$(date +%s)
  case $k in
    host)
      name="host $(uname -r)"
      set +e; node "${SUITE[@]}"; rc=$?; set -e ;;
    6.1|6.12)
      need_tools
      if [ "$k" = 6.1 ]; then pkg=$(newest '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$')
      else pkg=$(newest '^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$'); fi
      name=$pkg
      deb=$(deb_of "$pkg")
      # Piped through cat: the guest's console is a terminal, where vitest would redraw its status line.
      cmd="set -o pipefail; cd $(printf %q "$ROOT") && export GPO_TEST_TIMEOUT_SCALE=20 GPO_TEST_NODE_ARGS=$(printf %q "$GUEST_NODE_ARGS") && $(printf '%q ' "${GUEST_NODE[@]}" "${SUITE[@]}" "${GUEST_WORKER_ARGS[@]}") 2>&1 | cat"
      guest "$deb" "$cmd"
      # 125: the guest hung or panicked before the suite could answer; or node itself died in V8 (a fatal
      # check under emulation, not a gpo failure). Either way: boot it once more, saying so.
      if [ $rc -eq 125 ] || { [ $rc -ne 0 ] && grep -q 'V8_Fatal' "$log"; }; then
        echo "kernel-matrix: $pkg: $([ $rc -eq 125 ] && echo 'the guest hung or panicked' || echo 'node crashed inside V8'); booting it once more" >&2
        guest "$deb" "$cmd"
      fi ;;
    *) echo "kernel-matrix: unknown kernel $k (host, 6.1 or 6.12)" >&2; exit 2 ;;
  esac
  t1=$(date +%s)
  SUMMARY+=("$(printf '%-48s %-6s %5ss' "$name" "$([ $rc -eq 0 ] && echo pass || echo "FAIL($rc)")" $((t1 - t0)))")
  [ $rc -eq 0 ] || failed=1
done
echo
echo "kernel matrix:"
printf '  %s\n' "${SUMMARY[@]}"
if [ $failed -ne 0 ]; then echo "kernel-matrix: FAILED on at least one kernel (see above)" >&2; exit 1; fi
