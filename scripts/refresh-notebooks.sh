#!/usr/bin/env bash
# Re-runs the notebooks in place (headless, tslab kernel) so their saved outputs match the code and
# recordings/, then numbers the code cells: the tslab kernel reports no execution count, and a stored
# output beside "In [ ]" reads as stale. Run after npm run build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
for notebook in notebooks/*.ipynb; do
  jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=120 "$notebook"
  python3 - "$notebook" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    nb = json.load(f)
count = 0
for cell in nb["cells"]:
    if cell["cell_type"] == "code":
        count += 1
        cell["execution_count"] = count
        # Timings of the run that saved the outputs: noise in every diff.
        cell["metadata"].pop("execution", None)
with open(path, "w") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
PY
done
