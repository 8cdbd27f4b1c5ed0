/**
 * A condition variable for one async loop: the loop waits with
 * {@link Wakeup.until}, every event that could change what it waits for calls
 * {@link Wakeup.notify}, and the loop re-checks its condition. One primitive for
 * "a notice arrived", "the socket dropped", "stop was called" and "resume was
 * called", instead of a promise per event that must be cancelled by hand.
 */
export class Wakeup {
  private waiters = new Set<() => void>();

  /** Wakes every current waiter (each re-checks its own condition). */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves when `condition()` holds (true) or after `timeoutMs` (false, unless
   * the condition holds by then). The condition is checked first, then after each
   * notify. `Infinity` waits without a timer.
   */
  async until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.sleep(left);
    }
    return true;
  }

  /** One wait: resolves on the next notify or after `ms`. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}
