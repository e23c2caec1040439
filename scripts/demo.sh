#!/usr/bin/env bash
# The demo: the bundled game recorded clean and under each bundled cheat, scored against a baseline
# trained on the clean runs (root; see `gpo demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bin/gpo.js demo "$@"
