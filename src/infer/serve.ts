import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { RUN_FILES } from '../run/checkpoint';
import { RunError } from '../util/errors';
import { EXPORT_INFO_FILE } from './export';
import { isExportDir } from './load-predictor';

/**
 * The live segmentation page's files. They are plain browser files, not
 * compiled: the build leaves them in src/, and both src/infer (tsx) and
 * dist/infer (the build) sit two levels below the package root.
 */
const PAGE_DIR = path.join(__dirname, '..', '..', 'src', 'infer', 'serve-page');
const PAGE_FILES: Record<string, string> = { '/': 'index.html', '/page.js': 'page.js', '/page.css': 'page.css' };

/** The page's scripts, from node_modules so that it runs offline: tfjs (cpu, webgl), the wasm and WebGPU backends. */
function vendorFiles(): Record<string, string> {
  const dist = (pkg: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist');
  const wasm = dist('@tensorflow/tfjs-backend-wasm');
  const files: Record<string, string> = {
    '/vendor/tf.min.js': path.join(dist('@tensorflow/tfjs'), 'tf.min.js'),
    '/vendor/tf-backend-wasm.min.js': path.join(wasm, 'tf-backend-wasm.min.js'),
    '/vendor/tf-backend-webgpu.min.js': path.join(dist('@tensorflow/tfjs-backend-webgpu'), 'tf-backend-webgpu.min.js'),
  };
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    files[`/vendor/${f}`] = path.join(wasm, f);
  }
  return files;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/**
 * Cross-origin isolation: without it the browser gives no SharedArrayBuffer,
 * and the wasm backend runs on one thread.
 */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface ServeOptions {
  /** A folder `fcn export` wrote (model.json, weights.bin, fcn-model.json). */
  modelDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1: the page is for this machine only. */
  host?: string;
}

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the live segmentation page for an exported model; resolves once it listens. */
export async function servePage(opts: ServeOptions): Promise<PageServer> {
  if (!isExportDir(opts.modelDir)) {
    throw new RunError(
      `${opts.modelDir} has no ${EXPORT_INFO_FILE}; ` +
        `export the run first: npx fcn export --run <run> --out ${opts.modelDir}`,
    );
  }
  const routes: Record<string, string> = { ...vendorFiles() };
  for (const [url, file] of Object.entries(PAGE_FILES)) routes[url] = path.join(PAGE_DIR, file);
  for (const file of [RUN_FILES.model, RUN_FILES.weights, EXPORT_INFO_FILE]) {
    routes[`/model/${file}`] = path.join(opts.modelDir, file);
  }

  const server = http.createServer((req, res) => {
    const file = routes[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, ISOLATION_HEADERS).end();
    } else if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain' }).end('not found\n');
    } else {
      res.writeHead(200, {
        ...ISOLATION_HEADERS,
        'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        // A re-export under the same folder must not be masked by a cached model.
        'Cache-Control': 'no-cache',
      });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new RunError(`port ${opts.port} on ${host} is in use; pick another with --port`)
          : err,
      ),
    );
    server.listen(opts.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
