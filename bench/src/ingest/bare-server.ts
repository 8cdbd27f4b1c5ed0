import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WORKER_NAMESPACE } from '@vtrain/protocol';
import { Server } from 'socket.io';

/**
 * The reference of the ingest figure: a socket.io server with the
 * coordinator's transport settings that receives the same update messages and
 * only acknowledges them (no validation, decoding or model), so the ratio
 * isolates what the coordinator's own work costs. With `ackPatch`, each ack
 * also carries those bytes where an applied coordinator ack carries its weights
 * patch (the same shape, a prepared buffer): what answering with weights costs
 * the transport alone.
 */
export async function startBareServer(
  maxHttpBufferSize: number,
  ackPatch?: Uint8Array,
): Promise<{ url: string; close: () => Promise<void> }> {
  const http = createServer();
  const io = new Server(http, { maxHttpBufferSize, serveClient: false });
  let version = 0;
  io.of(WORKER_NAMESPACE).on('connection', (socket) => {
    socket.on('update', (message: { seq: number }, ack: (reply: unknown) => void) => {
      version++;
      const weights = ackPatch && {
        type: 'weights',
        runId: 'bare',
        version,
        encoding: 'sparse-patch',
        fromVersion: version - 1,
        payload: ackPatch,
      };
      ack({ type: 'ack', seq: message.seq, status: 'applied', version, staleness: 0, weights });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        void io.close(() => {
          resolve();
        });
      }),
  };
}
