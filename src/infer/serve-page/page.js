'use strict';
// The page `fcn serve` sends: tfjs in the browser runs an `fcn export` model on an image, a video
// file or the camera and paints the predicted classes over each frame. Plain browser script (not
// compiled with src/), tfjs comes from the global the vendor scripts set.

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
/** The view is capped so that painting a 4K video does not cost more than segmenting it; small frames are enlarged. */
const MAX_VIEW_WIDTH = 960;
const MIN_VIEW_WIDTH = 480;
/** Heights offered by the resolution selector; the width follows the source's aspect, in multiples of 32. */
const HEIGHTS = [64, 96, 128, 160, 192, 224, 256, 320, 384, 480];
/** Frames the FPS figure averages over. */
const FPS_WINDOW = 20;

/** The page's state, also read by the browser test and handy in the console. */
const segmenter = (window.fcnSegmenter = {
  frames: 0,
  fps: null,
  latencyMs: null,
  loadMs: null,
  backend: null,
  backendLabel: null,
  size: null,
  last: null,
  error: null,
});

let layersModel = null;
let info = null;
let generation = 0; // bumped when the source changes, which ends the previous frame loop
let frameTimes = [];
let current = null; // { el, width, height, moving }
const inputCanvas = document.createElement('canvas');
const inputCtx = inputCanvas.getContext('2d', { willReadFrequently: true });
const maskCanvas = document.createElement('canvas');
const view = $('view');
const viewCtx = view.getContext('2d');

function showError(err) {
  segmenter.error = err && err.message ? err.message : String(err);
  $('stats').textContent = `error: ${segmenter.error}`;
  console.error(err);
}

/** The requested backend, or the first of WebGPU, WebGL, wasm that initialises. */
async function useBackend(wanted) {
  tf.wasm.setWasmPaths('/vendor/');
  const order = wanted === 'auto' ? ['webgpu', 'webgl', 'wasm'] : [wanted];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch (err) {
      console.warn(`backend ${name} did not load: ${err.message}`);
    }
  }
  throw new Error(`no backend of ${order.join(', ')} loaded`);
}

/** wasm's speed depends on SIMD and on threads, which need the server's COOP/COEP headers. */
async function describeBackend(name) {
  if (name !== 'wasm') return name;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? tf.wasm.getThreadsCount() : 1;
  const isolation = self.crossOriginIsolated ? '' : ', not cross-origin isolated';
  return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads > 1 ? 's' : ''}${isolation})`;
}

function fillLegend() {
  $('legend').innerHTML = '';
  info.classes.forEach((c, i) => {
    const color = info.overlayPalette[i];
    if (!color) return;
    const item = document.createElement('span');
    item.innerHTML = `<i style="background:rgb(${color.join(',')})"></i>`;
    item.append(c.name);
    $('legend').append(item);
  });
}

/** Offers input sizes for the source's aspect; keeps the chosen height when the source changes. */
function fillSizes(aspect) {
  const select = $('size');
  const keep = select.value ? Number(select.value.split('x')[0]) : info.inputShape[0];
  const heights = [...new Set([...HEIGHTS, info.inputShape[0]])].sort((a, b) => a - b);
  const sizes = heights.map((h) => [h, Math.max(32, Math.round((h * aspect) / 32) * 32)]);
  const wanted = /^(\d+)x(\d+)$/.exec(params.get('size') || '');
  if (wanted) sizes.push([Number(wanted[1]), Number(wanted[2])]);
  select.innerHTML = '';
  for (const [h, w] of sizes) {
    const option = new Option(`${h}x${w}${h === info.inputShape[0] ? ' (training height)' : ''}`, `${h}x${w}`);
    select.add(option);
  }
  select.value = wanted ? wanted[0] : `${keep}x${sizes.find(([h]) => h === keep)?.[1] ?? sizes[0][1]}`;
  if (!select.value) select.selectedIndex = 0;
}

function inputSize() {
  const [h, w] = $('size').value.split('x').map(Number);
  return [h, w];
}

/** Segments what `el` shows now and paints it; the model's input is the selected size. */
async function segment(el, width, height) {
  const [h, w] = inputSize();
  inputCanvas.width = w;
  inputCanvas.height = h;
  inputCtx.drawImage(el, 0, 0, w, h);
  const pixels = inputCtx.getImageData(0, 0, w, h);
  const t0 = performance.now();
  const ids = tf.tidy(() => {
    // The preprocessing of src/model/preprocess.ts: RGB to BGR, minus the ImageNet means.
    const bgr = tf.browser.fromPixels(pixels).reverse(-1).toFloat().sub(tf.tensor1d(info.preprocessing.meanBGR));
    return layersModel.predict(bgr.expandDims(0)).argMax(-1).squeeze([0]);
  });
  const labels = await ids.data();
  ids.dispose();
  const latency = performance.now() - t0;
  paint(el, width, height, labels, w, h);
  frameTimes.push(performance.now());
  if (frameTimes.length > FPS_WINDOW) frameTimes.shift();
  const span = frameTimes[frameTimes.length - 1] - frameTimes[0];
  segmenter.frames += 1;
  segmenter.latencyMs = latency;
  segmenter.fps = frameTimes.length > 1 && span > 0 ? ((frameTimes.length - 1) * 1000) / span : null;
  segmenter.size = [h, w];
  segmenter.last = { labels, height: h, width: w, input: rgbOf(pixels) };
  const fps = current && current.moving && segmenter.fps !== null ? `${segmenter.fps.toFixed(1)} FPS · ` : '';
  $('stats').textContent = `${fps}latency ${latency.toFixed(0)} ms · ${segmenter.backendLabel} · input ${h}x${w}`;
}

function rgbOf(imageData) {
  const rgb = new Uint8Array((imageData.data.length / 4) * 3);
  for (let i = 0, j = 0; i < imageData.data.length; i += 4, j += 3) {
    rgb[j] = imageData.data[i];
    rgb[j + 1] = imageData.data[i + 1];
    rgb[j + 2] = imageData.data[i + 2];
  }
  return rgb;
}

/** The frame, then the classes at half opacity (as `fcn predict`'s overlay), nearest-scaled from the model's size. */
function paint(el, width, height, labels, w, h) {
  const scale = Math.min(MAX_VIEW_WIDTH, Math.max(MIN_VIEW_WIDTH, width)) / width;
  view.width = Math.round(width * scale);
  view.height = Math.round(height * scale);
  viewCtx.drawImage(el, 0, 0, view.width, view.height);
  maskCanvas.width = w;
  maskCanvas.height = h;
  const maskCtx = maskCanvas.getContext('2d');
  const mask = maskCtx.createImageData(w, h);
  for (let i = 0; i < labels.length; i++) {
    const color = info.overlayPalette[labels[i]];
    if (!color) continue;
    mask.data.set(color, i * 4);
    mask.data[i * 4 + 3] = 128;
  }
  maskCtx.putImageData(mask, 0, 0);
  viewCtx.imageSmoothingEnabled = false;
  viewCtx.drawImage(maskCanvas, 0, 0, view.width, view.height);
}

/** Starts segmenting a new source; a video or camera runs frame after frame until the source changes. */
async function start(el, width, height, moving) {
  const gen = ++generation;
  current = { el, width, height, moving };
  frameTimes = [];
  $('hint').hidden = true;
  fillSizes(width / height);
  if (!moving) return segment(el, width, height);
  while (gen === generation) {
    if (el.readyState >= 2 && el.videoWidth) await segment(el, el.videoWidth, el.videoHeight);
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

async function openFile(file) {
  if (file.type.startsWith('video/')) {
    const video = document.createElement('video');
    Object.assign(video, { src: URL.createObjectURL(file), loop: true, muted: true, playsInline: true });
    await video.play();
    $('source').value = 'video';
    return start(video, video.videoWidth, video.videoHeight, true);
  }
  const img = new Image();
  img.src = URL.createObjectURL(file);
  await img.decode();
  $('source').value = 'image';
  return start(img, img.naturalWidth, img.naturalHeight, false);
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('this browser gives no camera here (it needs http://127.0.0.1 or https)');
  }
  const video = document.createElement('video');
  Object.assign(video, { muted: true, playsInline: true });
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  await video.play();
  $('source').value = 'camera';
  return start(video, video.videoWidth, video.videoHeight, true);
}

function wireControls() {
  $('file').addEventListener('change', (e) => e.target.files[0] && openFile(e.target.files[0]).catch(showError));
  $('source').addEventListener('change', (e) => {
    if (e.target.value === 'camera') openCamera().catch(showError);
    else $('file').click();
  });
  $('size').addEventListener('change', () => {
    frameTimes = [];
    if (current && !current.moving) segment(current.el, current.width, current.height).catch(showError);
  });
  $('backend').addEventListener('change', async (e) => {
    try {
      segmenter.backend = await useBackend(e.target.value);
      segmenter.backendLabel = await describeBackend(segmenter.backend);
      frameTimes = [];
      if (current && !current.moving) await segment(current.el, current.width, current.height);
    } catch (err) {
      showError(err);
    }
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) openFile(e.dataTransfer.files[0]).catch(showError);
  });
}

async function main() {
  info = await (await fetch('/model/fcn-model.json')).json();
  $('backend').value = params.get('backend') || 'auto';
  segmenter.backend = await useBackend($('backend').value);
  segmenter.backendLabel = await describeBackend(segmenter.backend);
  const t0 = performance.now();
  layersModel = await tf.loadLayersModel('/model/model.json');
  segmenter.loadMs = performance.now() - t0;
  fillLegend();
  fillSizes(info.inputShape[1] / info.inputShape[0]);
  wireControls();
  const weights = info.weights
    ? `, weights ${(info.weights.bytes / 2 ** 20).toFixed(1)} MiB` +
      `${info.weights.quantization ? ` (${info.weights.quantization})` : ''}`
    : '';
  $('stats').textContent = `model loaded in ${segmenter.loadMs.toFixed(0)} ms${weights} · ${segmenter.backendLabel}`;
  if (params.get('source') === 'camera') await openCamera();
}

main().catch(showError);
