/**
 * Automatic rotation of the experience master every `experience_library.key_rotation_days`
 * (ARCHITECTURE.md item 5). A timer looks at the cached master record every `everyMs` (an
 * in-memory comparison of the active version's createdAt with the clock); only a due master takes
 * the store lock, where the store is read again, so one instance rotates and the others find the
 * new version.
 */
import type { Master } from './master.js';

export class RotationTimer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly master: Master,
    private readonly onError: (e: unknown) => void,
    private readonly everyMs = 1_000,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a rotation in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.running = this.master
      .rotateIfDue()
      .then(() => undefined, this.onError)
      .finally(() => (this.running = undefined));
  }
}
