import type { DashboardSocket } from '../dashboard-socket.js';

type Handler = (message: unknown) => void;

/**
 * Enough of a socket.io client socket for the dashboard's hooks: listeners,
 * `timeout(ms).emitWithAck` answered by `answer`, and `deliver` to play a
 * notice from the coordinator.
 */
export class FakeSocket {
  connected = true;
  readonly requests: { event: string; message: unknown }[] = [];
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(private readonly answer: (event: string, message: unknown) => unknown) {}

  on(event: string, handler: Handler): this {
    const set = this.handlers.get(event) ?? new Set<Handler>();
    set.add(handler);
    this.handlers.set(event, set);
    return this;
  }

  off(event: string, handler: Handler): this {
    this.handlers.get(event)?.delete(handler);
    return this;
  }

  timeout(): { emitWithAck: (event: string, message: unknown) => Promise<unknown> } {
    return {
      emitWithAck: (event, message) => {
        this.requests.push({ event, message });
        return Promise.resolve(this.answer(event, message));
      },
    };
  }

  deliver(event: string, message: unknown): void {
    for (const handler of this.handlers.get(event) ?? []) handler(message);
  }

  listenerCount(event: string): number {
    return this.handlers.get(event)?.size ?? 0;
  }

  asSocket(): DashboardSocket {
    return this as unknown as DashboardSocket;
  }
}
