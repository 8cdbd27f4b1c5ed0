import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingProxy } from './counting-proxy.js';

/** A real socket.io server (port 0) that answers `update` with a binary ack, and a plain HTTP route. */
async function startServer(): Promise<{ http: HttpServer; io: Server; port: number }> {
  const http = createServer((request, response) => {
    if (request.url?.startsWith('/socket.io/')) return; // socket.io's own handler answers
    response.end(Buffer.alloc(1000, 7));
  });
  const io = new Server(http);
  io.of('/worker').on('connection', (socket) => {
    socket.on('update', (_message: unknown, ack: (reply: unknown) => void) => {
      ack({ type: 'ack', weights: Buffer.from([0x57, 1, 0, 0, 0, 0]) });
    });
    socket.emit('version', { type: 'version', version: 1 });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return { http, io, port: address.port };
}

describe('CountingProxy', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('counts every byte per connection kind and splits socket.io bytes by message', async () => {
    const server = await startServer();
    cleanups.push(async () => {
      await server.io.close();
    });
    const proxy = await CountingProxy.start({ host: '127.0.0.1', port: server.port });
    cleanups.push(() => proxy.close());

    const client: Socket = connect(`${proxy.url}/worker`, { transports: ['websocket'] });
    cleanups.push(() => {
      client.close();
      return Promise.resolve();
    });
    const version = new Promise<void>((resolve) => {
      client.once('version', () => {
        resolve();
      });
    });
    await new Promise<void>((resolve) => {
      client.once('connect', () => {
        resolve();
      });
    });
    await version;
    const payload = Buffer.alloc(5000, 1);
    payload[0] = 0x53;
    const reply = (await client.emitWithAck('update', {
      type: 'update',
      samples: 64,
      computeMs: 12,
      payload,
    })) as { weights: Buffer };
    expect(reply.weights[0]).toBe(0x57);
    const body = await (await fetch(`${proxy.url}/api/runs/x/shards/0`)).arrayBuffer();
    expect(body.byteLength).toBe(1000);
    // Let the last frames reach the counters.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const totals = proxy.totals();
    expect(totals['socket.io-websocket'].connections).toBe(1);
    expect(totals.http.connections).toBe(1);
    expect(totals.http.down).toBeGreaterThan(1000);
    expect(totals['socket.io-polling'].connections).toBe(0);

    // The message tallies add up to the websocket connection's bytes exactly.
    let up = 0;
    let down = 0;
    for (const tally of proxy.messages.values()) {
      up += tally.bytes.up;
      down += tally.bytes.down;
    }
    expect(up).toBe(totals['socket.io-websocket'].up);
    expect(down).toBe(totals['socket.io-websocket'].down);

    const kinds = [...proxy.messages.keys()];
    expect(kinds).toEqual(
      expect.arrayContaining([
        'websocket upgrade (HTTP)',
        'engine.io open',
        'socket.io connect',
        'version',
        'update',
        'update, binary sparse',
        'update:ack',
        'update:ack, binary dense weights',
      ]),
    );
    // The 5000-byte attachment travels in one binary frame with a 4-byte length and a mask.
    expect(proxy.messages.get('update, binary sparse')?.bytes.up).toBe(5000 + 2 + 2 + 4);
    const ws = proxy.connections.find((c) => c.kind === 'socket.io-websocket');
    expect(ws?.updates).toMatchObject({ count: 1, samples: 64, computeMs: 12 });
  });
});
