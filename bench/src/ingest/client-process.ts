/**
 * One ingest client process: opens `clients` socket.io connections to the
 * worker namespace, says hello when the server is the coordinator, reports
 * "ready" on stdout, waits for "go <startEpochMs> <endEpochMs>" on stdin, then
 * each connection sends updates back to back (one in flight, the next after the
 * ack, like a real worker) and counts the acks that arrive inside the window.
 * Prints one JSON line with the counts and exits.
 *
 *   node client-process.js <url> <mode: coordinator|bare> <clients> <parameterCount> <density> <indexSeed|distinct> <processIndex>
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROTOCOL_VERSION, WORKER_NAMESPACE, type Hello } from '@vtrain/protocol';
import { io, type Socket } from 'socket.io-client';
import { ingestPayload } from './payloads.js';

const [url, mode, clientsArg, parameterArg, densityArg, seedArg, processArg] =
  process.argv.slice(2);
const clients = Number(clientsArg);
const parameterCount = Number(parameterArg);
const density = Number(densityArg);
const processIndex = Number(processArg);

const HELLO: Hello = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  client: { kind: 'node', description: 'ingest bench' },
  backend: 'cpu',
  capabilities: {},
};

interface Welcome {
  readonly type: string;
  readonly assignment?: { readonly runId: string };
}

interface Ack {
  readonly type: string;
  readonly status?: string;
  readonly version?: number;
}

async function connect(): Promise<Socket> {
  const socket = io(new URL(WORKER_NAMESPACE, url).href, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

async function main(): Promise<void> {
  const sockets: { socket: Socket; runId: string; payload: Uint8Array }[] = [];
  for (let c = 0; c < clients; c++) {
    const socket = await connect();
    let runId = 'bare';
    if (mode === 'coordinator') {
      const welcome = (await socket.emitWithAck('hello', HELLO)) as Welcome;
      if (welcome.assignment === undefined)
        throw new Error(`no assignment: ${JSON.stringify(welcome)}`);
      runId = welcome.assignment.runId;
    }
    const seed = seedArg === 'distinct' ? 1000 + processIndex * 1000 + c : Number(seedArg);
    sockets.push({ socket, runId, payload: ingestPayload(parameterCount, density, seed) });
  }
  console.log('ready');
  const lines = createInterface({ input: process.stdin });
  const go = await new Promise<string>((resolve) => lines.once('line', resolve));
  const [, startArg, endArg] = go.split(' ');
  const start = Number(startArg);
  const end = Number(endArg);
  const counts = { applied: 0, other: 0, rejected: {} as Record<string, number> };
  await sleep(Math.max(0, start - Date.now()));
  await Promise.all(
    sockets.map(async ({ socket, runId, payload }) => {
      let seq = 0;
      let version = 0;
      while (Date.now() < end) {
        const ack = (await socket.emitWithAck('update', {
          type: 'update',
          runId,
          seq: seq++,
          baseVersion: version,
          steps: 1,
          samples: 32,
          trainLoss: 1,
          computeMs: 10,
          payload,
        })) as Ack & { reason?: string };
        if (Date.now() > end) break;
        if (ack.type === 'ack' && ack.status === 'applied') {
          counts.applied++;
          version = ack.version ?? version;
        } else if (ack.type === 'reject') {
          const reason = ack.reason ?? 'unknown';
          counts.rejected[reason] = (counts.rejected[reason] ?? 0) + 1;
          if (reason === 'rate-limited') await sleep(20);
        } else {
          counts.other++;
        }
      }
    }),
  );
  console.log(JSON.stringify(counts));
  for (const { socket } of sockets) socket.disconnect();
  lines.close();
}

await main();
