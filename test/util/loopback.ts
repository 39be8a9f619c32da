import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback port with nothing listening: bound, then closed again. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Sends the first half of `body` and drops the connection, as a network cut
 * does. The drop waits a moment: a reset sent at once can discard bytes the
 * client had not read yet, and the test would see nothing arrive.
 */
export function sendHalfThenDrop(res: http.ServerResponse, body: Buffer): void {
  res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 100));
}
