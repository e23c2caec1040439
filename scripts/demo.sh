#!/usr/bin/env bash
# The main job on a bundled default: records the bundled sample workload (4 threads of getppid, one
# openat, a child that execs) and shows what the trace holds.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-recordings/sample.parquet}
node bin/gpo.js record -o "$out" -- out/bin/workload 4 25000 /etc/hostname /bin/true
node bin/gpo.js info "$out"
