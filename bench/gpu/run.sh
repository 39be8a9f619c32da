#!/usr/bin/env bash
# Runs the benchmark from the GPU run kit (bench/gpu/pack.sh). Beside
# fcn-gpu-bench.tar it unpacks the kit into ./fcn-gpu-bench once; inside an
# unpacked kit it runs that one.
#   ./run.sh            160x576, batch 10, paper fc6 on WebGPU (the reference's
#                       setting): epoch time for KITTI Road's 289 images and
#                       images/s; PyTorch on CUDA as the peer where python3 has it
#   ./run.sh --dry-run  a tiny shape at half width on any Vulkan driver (Mesa's llvmpipe too), to check the kit
#   ./run.sh --steps 10 other flags go to the benchmark (bench/README.md)
# Needs only a GPU driver: the kit carries Node, its packages, the Vulkan
# loader and xz. VK_DRIVER_FILES, FCN_PYTHON and FCN_KIT_DIR override the search.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dry=0
extra=()
for a in "$@"; do
  if [ "$a" = --dry-run ]; then dry=1; else extra+=("$a"); fi
done

# 1. The kit: this folder when unpacked, else unpack the bundle beside us.
if [ -x "$here/bin/node" ] && [ -f "$here/app/bench/run.js" ]; then
  kit=$here
else
  bundle=$here/fcn-gpu-bench.tar
  kit=${FCN_KIT_DIR:-$here/fcn-gpu-bench}
  [ -f "$bundle" ] || { echo "run.sh: no kit at $bundle; build it with bench/gpu/pack.sh" >&2; exit 1; }
  if [ ! -f "$kit/.unpacked" ] || [ "$bundle" -nt "$kit/.unpacked" ]; then
    echo "run.sh: unpacking $bundle into $kit" >&2
    tmp=$(mktemp -d)
    tar -xf "$bundle" -C "$tmp"
    rm -rf "$kit"
    mkdir -p "$kit"
    if command -v xz >/dev/null 2>&1; then
      xz -dc "$tmp/payload.tar.xz" | tar -xf - -C "$kit" --strip-components=1
    else
      LD_LIBRARY_PATH="$tmp" "$tmp/xz" -dc "$tmp/payload.tar.xz" | tar -xf - -C "$kit" --strip-components=1
    fi
    rm -rf "$tmp"
    touch "$kit/.unpacked"
  fi
fi

# 2. Vulkan: the system's loader, else the kit's; NVIDIA's driver file where there is one.
libs=()
loader=0
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && loader=1
for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
  [ -e "$d/libvulkan.so.1" ] && loader=1
done
if [ $loader = 0 ]; then
  libs+=("$kit/vulkan")
  echo "run.sh: no libvulkan.so.1 on this machine; using the kit's (Debian libvulkan1)" >&2
fi
# The driver file names a bare libGLX_nvidia.so.0; NVIDIA's container layout keeps it here.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && libs+=("$d")
done
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  icd=""
  for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d \
           /usr/local/share/vulkan/icd.d /usr/local/nvidia/vulkan/icd.d; do
    for f in nvidia_icd.json nvidia_icd.x86_64.json; do
      if [ -z "$icd" ] && [ -f "$d/$f" ]; then icd=$d/$f; fi
    done
  done
  if [ -n "$icd" ]; then
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
    echo "run.sh: NVIDIA Vulkan driver file: $icd" >&2
  elif [ $dry = 0 ]; then
    echo "run.sh: no nvidia_icd.json found; WebGPU gets whatever Vulkan driver the loader finds (set VK_DRIVER_FILES to choose)" >&2
  fi
fi
if [ ${#libs[@]} -gt 0 ]; then
  LD_LIBRARY_PATH="$(IFS=:; echo "${libs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi

# 3. The peer: PyTorch on CUDA where python3 has it (in a dry run, on the CPU, to check the script).
peer=()
py=""
for p in ${FCN_PYTHON:-} python3 /usr/bin/python3; do
  if [ -z "$py" ] && command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then py=$p; fi
done
if [ -n "$py" ]; then
  export FCN_PYTHON=$py
  if "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    peer=(--peer pytorch --peer-device cuda)
  elif [ $dry = 1 ]; then
    peer=(--peer pytorch --peer-device cpu)
  else
    echo "run.sh: $py has torch without CUDA; no peer" >&2
  fi
fi

# 4. The benchmark.
if [ $dry = 1 ]; then
  # Half width: the paper fc6 kernel at full width (392 MiB) is over llvmpipe's 128 MiB per buffer.
  shape=(--shapes 32x96 --batch 1 --width 0.5 --warmup 1 --steps 1)
else
  shape=(--shapes 160x576 --batch 10 --warmup 2 --steps 5)
fi
results=$kit/results.json
"$kit/bin/node" "$kit/app/bench/run.js" --backends webgpu --fc6 paper --workers 1 "${shape[@]}" \
  ${peer[@]+"${peer[@]}"} --out "$results" ${extra[@]+"${extra[@]}"}

# 5. The reference's numbers: epoch time for KITTI Road's 289 images and images per second.
"$kit/bin/node" -e '
const { rows } = require(process.argv[1]);
for (const r of rows) {
  const what = `${r.backend} ${r.height}x${r.width} batch ${r.batch} fc6 ${r.fc6}`;
  if (r.status !== "ok") { console.log(`${what}: ${r.reason}`); continue; }
  const peer = r.vsPeerTrain ? `, ${r.vsPeerTrain.toFixed(2)}x the peer` : "";
  console.log(`${what}: epoch of KITTI Road (289 images) ${r.epochSeconds.toFixed(1)} s, ` +
    `${r.imagesPerSecond.toFixed(2)} images/s training${peer} [${r.detail}]`);
}' "$results"
echo "run.sh: results in $results"
