#!/usr/bin/env bash
# Builds BPF objects and skeletons, C helpers, the addon and the TypeScript sources.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j2 all
npx --no-install node-gyp configure build --loglevel=error >/dev/null
# The project's own TypeScript (tslab brings an older tsc that can take over node_modules/.bin/tsc).
node node_modules/typescript/bin/tsc -p tsconfig.json
