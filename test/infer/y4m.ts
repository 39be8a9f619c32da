import type { RgbImage } from '../../src/data/types';

/** BT.601 limited range ("studio swing"), what Chromium assumes for an untagged I420 frame. */
function yuv(r: number, g: number, b: number): [number, number, number] {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const u = 128 + (-37.797 * r - 74.203 * g + 112 * b) / 255;
  const v = 128 + (112 * r - 93.786 * g - 18.214 * b) / 255;
  return [y, u, v];
}

/**
 * A YUV4MPEG2 video (4:2:0, chroma averaged over 2x2) of RGB frames of one
 * even size, for Chromium's --use-file-for-fake-video-capture.
 */
export function y4mFromFrames(frames: readonly RgbImage[], fps: number): Buffer {
  const { height: h, width: w } = frames[0];
  if (h % 2 || w % 2 || frames.some((f) => f.height !== h || f.width !== w)) {
    const sizes = frames.map((f) => `${f.height}x${f.width}`).join(', ');
    throw new Error(`y4m frames must share one even size; got ${sizes}`);
  }
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const parts: Buffer[] = [header];
  for (const { data } of frames) {
    const y = new Uint8Array(w * h);
    const u = new Float32Array((w / 2) * (h / 2));
    const v = new Float32Array((w / 2) * (h / 2));
    for (let i = 0; i < w * h; i++) {
      const [yy, uu, vv] = yuv(data[3 * i], data[3 * i + 1], data[3 * i + 2]);
      y[i] = Math.round(yy);
      const c = ((i / w / 2) | 0) * (w / 2) + (((i % w) / 2) | 0);
      u[c] += uu / 4;
      v[c] += vv / 4;
    }
    const chroma = (c: Float32Array) => Buffer.from(Uint8Array.from(c, Math.round));
    parts.push(Buffer.from('FRAME\n'), Buffer.from(y), chroma(u), chroma(v));
  }
  return Buffer.concat(parts);
}
