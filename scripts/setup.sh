#!/usr/bin/env bash
# One idempotent set-up for everything fcn-ts needs beyond npm: Jupyter (for
# the notebooks and `npm start`), Chromium (figure PNGs, browser tests) and a
# Vulkan driver Dawn accepts (WebGPU tests on a software GPU).
# Debian/Ubuntu as root: installs with apt. Elsewhere: prints the exact command
# and carries on; the callers decide whether a missing piece is fatal.
#   scripts/setup.sh          what `npm start` needs (Jupyter)
#   scripts/setup.sh --test   also what `npm test` needs (Chromium, Mesa)
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

if [ $want_test = 1 ]; then
  command -v chromium >/dev/null 2>&1 || apt_install chromium \
    || echo "setup: Chromium not found; browser tests and figure PNGs will be skipped" >&2
  [ -x "$root/scripts/setup-mesa.sh" ] && "$root/scripts/setup-mesa.sh"
fi
exit 0
