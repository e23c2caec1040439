#!/usr/bin/env bash
# Installs everything gpo needs on a fresh Debian 12 machine (run as root), then builds it.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang-19 clang-format-19 llvm-19 libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev pkg-config make g++ bpftrace strace time chromium jupyter-notebook jupyter-nbconvert python3-ipykernel)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "setup: installing ${missing[*]} needs root" >&2; exit 1; fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # --ignore-scripts: npm would otherwise build binding.gyp before the BPF skeletons exist (build.sh does it)
  npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
fi

# The notebooks' TypeScript kernel (tslab, from node_modules) registered with Debian's Jupyter: again when
# the registered one is another checkout's.
tslab="$PWD/node_modules/.bin/tslab"
/usr/bin/python3 - "$tslab" <<'PY' 2>/dev/null || npx --no-install tslab install --python=/usr/bin/python3 --binary="$tslab" >/dev/null
import json, sys
from jupyter_client.kernelspec import find_kernel_specs
spec = find_kernel_specs().get("tslab")
sys.exit(0 if spec and json.load(open(spec + "/kernel.json"))["argv"][0] == sys.argv[1] else 1)
PY

bash scripts/build.sh
