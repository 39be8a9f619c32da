#!/usr/bin/env bash
# One idempotent set-up for everything fcn-ts needs beyond npm: Jupyter (for
# the notebooks and `npm start`), Chromium (figure PNGs, browser tests) and a
# Vulkan driver Dawn accepts (WebGPU tests on a software GPU).
# Debian/Ubuntu as root: installs with apt. Elsewhere: prints the exact command
# and carries on; the callers decide whether a missing piece is fatal.
#   scripts/setup.sh          what `npm start` needs (Jupyter, Chromium for the loss PNG)
#   scripts/setup.sh --test   also what `npm test` needs (Mesa)
set -u
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
root=$(cd "$(dirname "$0")/.." && pwd)

have_apt=0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then have_apt=1; fi

apt_updated=0
apt_install() {
  # Installs the Debian packages named in "$@" that are missing.
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $have_apt = 0 ]; then
    echo "setup: missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  if [ $apt_updated = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
  fi
  echo "setup: apt-get install ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { echo "setup: apt-get install ${missing[*]} failed" >&2; return 1; }
}

# Jupyter with nbconvert: Debian's packages, else pip.
if ! python3 -c 'import notebook, nbconvert' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import notebook, nbconvert' >/dev/null 2>&1; then
  apt_install jupyter-notebook jupyter-nbconvert python3-ipykernel \
    || echo "setup: Jupyter not found; install it with: python3 -m pip install --user notebook nbconvert" >&2
fi

# Chromium draws the loss chart PNG (figure 4 of the report) in `npm start`, and runs the browser tests.
command -v chromium >/dev/null 2>&1 || apt_install chromium \
  || echo "setup: Chromium not found; the loss PNGs are not drawn and the browser tests are skipped" >&2

if [ $want_test = 1 ]; then
  [ -x "$root/scripts/setup-mesa.sh" ] && "$root/scripts/setup-mesa.sh"
  # h5py checks the Keras HDF5 export's layout (test/infer/keras-h5.test.ts); the test skips without it.
  apt_install python3-h5py || echo "setup: python3-h5py not installed; the Keras HDF5 layout check is skipped" >&2
fi
exit 0
