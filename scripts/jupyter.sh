#!/usr/bin/env bash
# Jupyter with this project's tslab (TypeScript) kernel registered locally in
# .jupyter/ (git-ignored), so the user's own Jupyter set-up is never touched.
#   scripts/jupyter.sh notebook       opens notebooks/ in the browser (npm run notebook)
#   scripts/jupyter.sh <args...>      any jupyter command, e.g. nbconvert --execute ...
#   scripts/jupyter.sh --python       prints the Python that has Jupyter (exit 127: none)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Debian's Jupyter lives in /usr/bin/python3, which a pyenv or venv python3 on PATH can hide.
py=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import notebook, nbconvert' >/dev/null 2>&1; then py=$candidate; break; fi
done
if [ -z "$py" ]; then
  echo "jupyter: no Python with Jupyter found; install it with" >&2
  echo "  sudo apt-get install -y jupyter-notebook jupyter-nbconvert python3-ipykernel   (Debian/Ubuntu)" >&2
  echo "  python3 -m pip install --user notebook nbconvert                                (elsewhere)" >&2
  exit 127
fi
if [ "${1:-}" = "--python" ]; then echo "$py"; exit 0; fi

tslab="$root/node_modules/.bin/tslab"
if [ ! -x "$tslab" ]; then
  echo "jupyter: $tslab is missing; run npm install first" >&2
  exit 1
fi
# (Re-)register when missing or when the project moved (kernel.json holds the absolute path).
# Under a lock: two notebooks started at once on a fresh checkout would both install and one would fail.
kernel="$root/.jupyter/share/jupyter/kernels/tslab/kernel.json"
mkdir -p "$root/.jupyter"
(
  flock 9
  if [ ! -f "$kernel" ] || ! grep -qF "\"$tslab\"" "$kernel"; then
    rm -rf "$(dirname "$kernel")"
    "$tslab" install --python "$py" --binary "$tslab" --prefix "$root/.jupyter" >/dev/null
  fi
) 9>"$root/.jupyter/install.lock"
export JUPYTER_PATH="$root/.jupyter/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"

if [ "$#" -eq 1 ] && [ "$1" = "notebook" ]; then
  # Jupyter refuses to start as root (containers) unless told.
  as_root=()
  [ "$(id -u)" = 0 ] && as_root=(--allow-root)
  exec "$py" -m jupyter notebook --notebook-dir="$root/notebooks" "${as_root[@]}"
fi
exec "$py" -m jupyter "$@"
