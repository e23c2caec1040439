#!/usr/bin/env bash
# One formatter configuration for the tree: prettier for TypeScript and JavaScript (.prettierrc.json),
# clang-format for the addon's C++ (native/.clang-format, Google style) and the BPF programs
# (bpf/.clang-format, kernel style). `npm run format` rewrites; `npm run format:check` (--check) only
# reports files that differ, and fails if any does.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-19}
command -v "$CLANG_FORMAT" >/dev/null || { echo "$CLANG_FORMAT missing: run scripts/setup.sh" >&2; exit 2; }
# Tracked files only (bpf/vmlinux.h is generated). native/launch.c and native/guard.c, C in kernel style, are left as they are.
mapfile -t ts < <(git ls-files '*.ts' '*.mjs' '*.js')
mapfile -t c < <(git ls-files 'native/*.cc' 'native/*.h' 'bpf/*.c' 'bpf/*.h')
if [[ ${1:-} == --check ]]; then
  status=0
  node node_modules/prettier/bin/prettier.cjs --check --log-level warn "${ts[@]}" || status=1
  unformatted=$("$CLANG_FORMAT" --dry-run "${c[@]}" 2>&1 | grep -oE '^[^:]+:[0-9]+:[0-9]+: (warning|error)' | cut -d: -f1 | sort -u || true)
  if [[ -n $unformatted ]]; then
    sed 's/^/[clang-format] /' <<<"$unformatted" >&2
    status=1
  fi
  exit $status
fi
node node_modules/prettier/bin/prettier.cjs --write --log-level warn "${ts[@]}"
"$CLANG_FORMAT" -i "${c[@]}"
