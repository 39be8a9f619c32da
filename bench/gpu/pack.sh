#!/usr/bin/env bash
# Builds the GPU run kit in bench/gpu/out/ (git-ignored):
#   fcn-gpu-bench.tar  at most 60 MB: this machine's Node binary, the compiled
#                      benchmark, the node_modules files it loads (linux-x64
#                      only), the Vulkan loader (Debian's libvulkan1), all in
#                      payload.tar.xz, with xz beside it for machines without one
#   run.sh             unpacks the kit beside itself and runs the benchmark
# Copy both to the GPU machine and run ./run.sh there (see bench/README.md).
#   bench/gpu/pack.sh [out dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
mkdir -p "$out"; out=$(cd "$out" && pwd)
limit_mb=60
stage=$out/stage
kit=$stage/fcn-gpu-bench
rm -rf "$stage"
mkdir -p "$kit/bin" "$kit/app" "$kit/vulkan" "$stage/outer"

echo "pack: compiling bench/run.ts and what it imports"
node "$root/node_modules/typescript/bin/tsc" -p "$here/tsconfig.pack.json" --outDir "$kit/app"
cp "$root/bench/pytorch_peer.py" "$kit/app/bench/"
cp "$here/run.sh" "$kit/run.sh"

echo "pack: collecting the node_modules files it loads"
node "$here/collect-files.cjs" "$root" "$kit/app/bench/run.js" "$kit/app/src/train/worker-entry.js" \
  @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-webgpu webgpu >"$stage/files.txt" 2>"$stage/left-out.txt"
cd "$root"
# Loaded by computed paths, so the collector cannot see them: the wasm
# binaries, Dawn's linux-x64 build, and sharp's native addon with libvips.
ls node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm node_modules/webgpu/dist/linux-x64/dawn.node >>"$stage/files.txt"
if grep -q '^node_modules/sharp/' "$stage/files.txt"; then
  find node_modules/@img/sharp-linux-x64 node_modules/@img/sharp-libvips-linux-x64 -type f ! -name '*.md' >>"$stage/files.txt"
fi
tar -cf - -T "$stage/files.txt" | tar -xf - -C "$kit/app"

echo "pack: Node $(node --version) and the Vulkan loader"
cp "$(command -v node)" "$kit/bin/node"
deb=""
if (cd "$stage" && apt-get download libvulkan1 >/dev/null 2>&1); then deb=$(ls "$stage"/libvulkan1_*.deb | head -1); fi
[ -n "$deb" ] || deb=$(ls /var/cache/apt/archives/libvulkan1_*_amd64.deb 2>/dev/null | head -1 || true)
[ -n "$deb" ] || { echo "pack: cannot get libvulkan1 (apt-get download libvulkan1 failed, none in /var/cache/apt/archives)" >&2; exit 1; }
dpkg -x "$deb" "$stage/libvulkan1"
cp -a "$stage"/libvulkan1/usr/lib/x86_64-linux-gnu/libvulkan.so.1* "$kit/vulkan/"

echo "pack: compressing (xz, a few minutes on 2 busy cores)"
tar -C "$stage" -cf - fcn-gpu-bench | xz -T0 -6 >"$stage/outer/payload.tar.xz"
xz_bin=$(command -v xz)
cp "$xz_bin" "$stage/outer/xz"
lzma=$(ldd "$xz_bin" | awk '/liblzma/ {print $3}')
[ -n "$lzma" ] && cp -L "$lzma" "$stage/outer/"
tar -C "$stage/outer" -cf "$out/fcn-gpu-bench.tar" .
cp "$here/run.sh" "$out/run.sh"
chmod +x "$out/run.sh"

bytes=$(stat -c %s "$out/fcn-gpu-bench.tar")
mb=$(( (bytes + 999999) / 1000000 ))
echo "pack: $out/fcn-gpu-bench.tar is $mb MB ($bytes bytes; limit $limit_mb MB), $(wc -l <"$stage/files.txt") node_modules files"
rm -rf "$stage"
if [ "$bytes" -gt $((limit_mb * 1000000)) ]; then
  echo "pack: the kit is over $limit_mb MB" >&2
  exit 1
fi
