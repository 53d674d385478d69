import type { Logger } from 'pino';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../admin/session.js';
import type { Store } from '../store/index.js';

const LEASE = 'sweep';

/**
 * Every `everyMs`, one instance of those sharing the store (whichever takes the lease) expires
 * orders, hands back finalizations whose instance died and drops used-up nonces and dashboard sessions.
 */
export function startSweeper(o: { store: Store; logger: Logger; everyMs: number }): () => void {
  const sweep = async () => {
    const now = new Date();
    // Shorter than the period, so a holder that died never costs the others a round.
    const token = await o.store.leases.acquire(LEASE, now, new Date(now.getTime() + o.everyMs / 2));
    if (token === undefined) return;
    try {
      const recovered = await o.store.orders.recoverStalled(now);
      if (recovered > 0) o.logger.warn({ event: 'order.finalizeRecovered', orders: recovered }, 'finalizations left by a stopped instance were handed back');
      await Promise.all([
        o.store.orders.expire(now),
        o.store.nonces.purgeExpired(now),
        o.store.sessions.purge(new Date(now.getTime() - SESSION_IDLE_MS), new Date(now.getTime() - SESSION_ABSOLUTE_MS)),
      ]);
    } finally {
      await o.store.leases.release(LEASE, token);
    }
  };
  const timer = setInterval(() => void sweep().catch((err) => o.logger.error({ err }, 'sweep failed')), o.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
