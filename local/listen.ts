import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts `server` listening (port 0 = a free one) and resolves with the URL it answers on, or rejects with the listen error. */
export async function listenHttp(server: Server, port = 0, host = '127.0.0.1'): Promise<{ endpoint: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound, address } = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return { endpoint: `http://${shown}:${bound}`, port: bound };
}
