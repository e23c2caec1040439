#!/usr/bin/env bash
# Builds BPF objects and skeletons, C helpers, the addon and the TypeScript sources.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j2 all
npx --no-install node-gyp configure build --loglevel=error >/dev/null
npx --no-install tsc -p tsconfig.json
