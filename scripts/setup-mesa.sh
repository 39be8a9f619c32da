#!/usr/bin/env bash
# Makes a Vulkan driver available that Dawn (the `webgpu` package) accepts, so
# the WebGPU backend and its tests run on a machine without a GPU (lavapipe,
# Mesa's software Vulkan). Debian 12's own Mesa 22.3 is refused by Dawn
# ("shaderUniform*ArrayDynamicIndexing required"), so on bookworm the driver
# comes from bookworm-backports (Mesa 25); newer Debian/Ubuntu ship one that
# works. Idempotent; prints one line of what it did. Without root or apt it
# prints the command to run and exits 0: the WebGPU tests then skip.
set -u

# The first Mesa whose lavapipe Dawn accepts is somewhere after 22.3; 23 is
# the next major release line.
min_mesa=23

installed_version() {
  dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null \
    | sed -n 's/^install ok installed //p'
}

mesa=$(installed_version mesa-vulkan-drivers)
if [ -n "$mesa" ] && [ -n "$(installed_version libvulkan1)" ] \
  && dpkg --compare-versions "$mesa" ge "$min_mesa"; then
  echo "setup-mesa: Mesa Vulkan $mesa already installed"
  exit 0
fi

codename=$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
packages=(mesa-vulkan-drivers libvulkan1)
target=()
if [ "$codename" = bookworm ]; then
  # libdrm from the same suite: backports' Mesa needs libdrm >= 2.4.121.
  packages=(mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 libvulkan1)
  target=(-t bookworm-backports)
fi
command_text="apt-get install -y --no-install-recommends ${target[*]} ${packages[*]}"

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  hint="sudo $command_text"
  [ "$codename" = bookworm ] && hint="enable bookworm-backports in /etc/apt/sources.list.d, then: sudo apt-get update && $hint"
  echo "setup-mesa: no Vulkan driver Dawn accepts (found: ${mesa:-none}); WebGPU tests will skip; $hint"
  exit 0
fi

added=""
if [ "$codename" = bookworm ] \
  && ! grep -rqs --include='*.list' --include='*.sources' --include=sources.list \
       'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  added=" (added /etc/apt/sources.list.d/bookworm-backports.sources)"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >"$log" 2>&1 \
  || ! apt-get install -y -qq --no-install-recommends "${target[@]}" "${packages[@]}" >>"$log" 2>&1; then
  echo "setup-mesa: '$command_text' failed$added; WebGPU tests will skip; last lines:" >&2
  tail -n 5 "$log" >&2
  exit 0
fi
mesa=$(installed_version mesa-vulkan-drivers)
if ! dpkg --compare-versions "$mesa" ge "$min_mesa"; then
  echo "setup-mesa: apt's newest Mesa Vulkan is $mesa, which Dawn refuses$added; WebGPU tests will skip; install Mesa >= $min_mesa (e.g. from a backports suite)" >&2
  exit 0
fi
echo "setup-mesa: installed Mesa Vulkan $mesa$added: $command_text"
