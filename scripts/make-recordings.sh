#!/usr/bin/env bash
# Regenerates recordings/: the demo's clean training runs, the baseline trained on them, a held-out clean
# run per seed and one run per cheat, plus manifest.json (what each trace is and the demo's verdict).
# Needs root and a build (npm run build). Used by test/recordings.test.ts (offline) and notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f recordings/*.parquet recordings/baseline.json recordings/manifest.json
mkdir -p recordings
node bin/gpo.js demo --save-recordings recordings "$@"
du -sh recordings
