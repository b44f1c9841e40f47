/**
 * One instance's ordered queue of address work: VIP adds and removes, announcements, the hooks
 * and load balancer steps that must come before or after them.
 *
 * Contract: jobs run one at a time in the order they were enqueued, each starting only once the
 * one before it settled, so a VIP removal never overtakes an add. A failed job is logged (at
 * error, with `what`) and the next one runs anyway; `enqueue` never throws and the queue never
 * rejects. Nothing else waits for it: adverts and timers are not queued here. Deliberately no
 * bound on its length and no timeout per job: the adapters bound their own calls.
 */
import type { Logger } from 'pino';

export class AddressQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly log: Logger) {}

  /** Runs `job` after every job enqueued before it has settled. */
  enqueue(what: string, job: () => Promise<void>): void {
    this.tail = this.tail.then(job).catch((err: unknown) => {
      this.log.error({ err, effect: what }, `${what} failed`);
    });
  }

  /** Resolves when every job enqueued so far has settled (never rejects). */
  drained(): Promise<void> {
    return this.tail;
  }
}
