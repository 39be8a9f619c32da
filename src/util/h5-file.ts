import { RunError } from './errors';

import type * as H5wasmModule from 'h5wasm' with { 'resolution-mode': 'import' };

type H5wasm = typeof H5wasmModule;
export type H5File = H5wasmModule.File;
export type H5Group = H5wasmModule.Group;

/** HDF5's format signature; it sits at byte 0 or, after a user block, at 512, 1024, 2048, ... */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

let memfsCounter = 0;

async function loadH5wasm(): Promise<{ h5wasm: H5wasm; fs: NonNullable<H5wasm['FS']> }> {
  const h5wasm = await import('h5wasm');
  await h5wasm.ready;
  if (!h5wasm.FS) throw new RunError('h5wasm has no file system; reinstall it with `npm ci`');
  return { h5wasm, fs: h5wasm.FS };
}

/** A unique name in h5wasm's in-memory file system, so concurrent files stay apart. */
const memName = () => `/fcn-${process.pid}-${memfsCounter++}.h5`;

/**
 * Opens HDF5 bytes read-only (h5wasm reads from its in-memory file system)
 * and runs `read` on them; `fix` ends the message when the bytes are not HDF5.
 */
export async function readH5<T>(
  file: string,
  bytes: Uint8Array,
  fix: string,
  read: (h5: H5File, h5wasm: H5wasm) => T,
): Promise<T> {
  checkHdf5Signature(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), fix);
  const { h5wasm, fs } = await loadH5wasm();
  const name = memName();
  fs.writeFile(name, bytes);
  const h5 = new h5wasm.File(name, 'r');
  try {
    return read(h5, h5wasm);
  } finally {
    h5.close();
    fs.unlink(name);
  }
}

/** Builds a new HDF5 file with `write` and gives its bytes. */
export async function writeH5(write: (h5: H5File) => void): Promise<Uint8Array> {
  const { h5wasm, fs } = await loadH5wasm();
  const name = memName();
  const h5 = new h5wasm.File(name, 'w');
  try {
    write(h5);
  } finally {
    h5.close();
  }
  const bytes = fs.readFile(name);
  fs.unlink(name);
  return bytes;
}

function checkHdf5Signature(file: string, bytes: Buffer, fix: string): void {
  for (let at = 0; at + HDF5_SIGNATURE.length <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (bytes.subarray(at, at + HDF5_SIGNATURE.length).equals(HDF5_SIGNATURE)) return;
  }
  const head = bytes.subarray(0, 256).toString('latin1').trimStart();
  const what = head.startsWith('<')
    ? 'an HTML page (a failed download?)'
    : `${bytes.length} bytes without the HDF5 signature`;
  throw new RunError(`${file} is not an HDF5 file: it is ${what}; ${fix}`);
}

/** Attribute values arrive as a string or a list of strings, depending on how the file stored them. */
export function stringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => String(v));
}
