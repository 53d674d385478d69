import type { Logger } from 'pino';
import { localSource, systemActor } from '../audit/actors.js';
import type { AuditRecorder } from '../audit/event.js';
import { signCrl } from '../pki/crl.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import type { Store, StoredCrl } from '../store/index.js';

export interface CrlPublisherOptions {
  store: Store;
  ca: IssuingCa;
  logger: Logger;
  /** Each signed CRL is audited before it is published: one the trail cannot take is not published. */
  audit: AuditRecorder;
  /** nextUpdate - thisUpdate; default 24 hours. */
  validityMs?: number;
  /** A CRL is re-signed this long before its nextUpdate; default 8 hours. */
  regenerateBeforeMs?: number;
}

export interface CrlPublisher {
  /** The stored CRL; signs one first when there is none or it has expired. */
  current(): Promise<StoredCrl>;
  /**
   * Signs a new CRL now, after a revocation. Waits while another instance holds the lease; if that
   * takes too long it logs and returns, and the periodic check lists the revocation instead.
   */
  regenerate(reason: string): Promise<void>;
  /** Signs a CRL when none is usable, then checks the store periodically (an unref'd timer). */
  start(): Promise<void>;
  stop(): void;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Signing takes milliseconds; the lease's length only matters when its holder died holding it. */
const LEASE_MS = 10_000;
/** Long enough for a dead holder's lease to run out, so waiting never fails because of one. */
const LEASE_WAIT_MS = LEASE_MS + 2_000;
const LEASE_POLL_MS = 50;
const CHECK_MS = 60_000;
/** RFC 5280 lets a CA drop expired certificates; short-lived ones would otherwise grow the CRL forever. */
const KEEP_EXPIRED_MS = DAY_MS;

/**
 * The issuing CA's CRL, kept in the store: numbers only grow, and of several instances on one
 * database exactly one signs at a time (a lease in the `crls` row). Nothing here lives only in memory.
 */
export function createCrlPublisher(o: CrlPublisherOptions): CrlPublisher {
  const validityMs = o.validityMs ?? DAY_MS;
  const regenerateBeforeMs = o.regenerateBeforeMs ?? 8 * HOUR_MS;
  if (!(regenerateBeforeMs > 0 && validityMs > regenerateBeforeMs)) {
    throw new RangeError('CRL validityMs must exceed regenerateBeforeMs, and both must be positive');
  }
  const checkMs = Math.min(CHECK_MS, regenerateBeforeMs / 4);
  const keyId = o.ca.keyId;
  const crls = o.store.crls;

  /** Why the CRL must be replaced, or undefined when it is fine. */
  const staleness = async (crl: StoredCrl | undefined): Promise<string | undefined> => {
    if (!crl) return 'first';
    if (crl.nextUpdate.getTime() - regenerateBeforeMs <= Date.now()) return 'nextUpdate near';
    // Catches a revocation whose own regenerate never ran (the instance died, the lease wait ran out).
    const missed = await o.store.certificates.revoked({ issuerKeyId: keyId, revokedSince: crl.thisUpdate });
    return missed.length > 0 ? 'revocation not yet listed' : undefined;
  };

  /**
   * Under the lease, signs the next CRL if `needed` (checked again there, since another instance
   * may just have signed) gives a reason. False when someone else holds the lease.
   */
  const trySign = async (needed: () => Promise<string | undefined>): Promise<boolean> => {
    const until = new Date(Date.now() + LEASE_MS);
    const last = await crls.lease(keyId, new Date(), until);
    if (last === undefined) return false;
    try {
      const reason = await needed();
      if (reason === undefined) {
        await crls.release(keyId, until);
        return true;
      }
      // Read after taking the lease, so every revocation committed before this call is listed.
      const thisUpdate = new Date();
      const entries = await o.store.certificates.revoked({ issuerKeyId: keyId, expiredBefore: new Date(thisUpdate.getTime() - KEEP_EXPIRED_MS) });
      const number = last + 1n;
      const nextUpdate = new Date(thisUpdate.getTime() + validityMs);
      const crl = await signCrl({ issuer: o.ca.cert, key: o.ca.key, number, entries, thisUpdate, nextUpdate });
      await o.audit.record({
        type: 'crl.signed',
        outcome: 'success',
        actor: systemActor(),
        source: localSource(),
        subject: { kind: 'crl', id: `${keyId}:${number}` },
        details: { number: number.toString(), entries: entries.length, reason, nextUpdate: nextUpdate.toISOString() },
      });
      if (!(await crls.publish(keyId, until, { number, der: new Uint8Array(crl.rawData), thisUpdate, nextUpdate }))) {
        o.logger.warn({ event: 'crl.leaseLost', number: number.toString() }, 'the CRL lease ran out while signing; signing again');
        return false;
      }
      o.logger.info({ event: 'crl.signed', number: number.toString(), entries: entries.length, reason }, 'CRL signed');
      return true;
    } catch (err) {
      // If the store itself failed, this fails too; the lease then runs out by itself.
      await crls.release(keyId, until).catch(() => undefined);
      throw err;
    }
  };

  /** trySign until it gets the lease; false when it never did. */
  const withLease = async (needed: () => Promise<string | undefined>): Promise<boolean> => {
    const deadline = Date.now() + LEASE_WAIT_MS;
    while (!(await trySign(needed))) {
      if (Date.now() > deadline) {
        o.logger.warn({ event: 'crl.leaseBusy' }, 'the CRL lease stayed taken; the periodic check will sign');
        return false;
      }
      await new Promise((r) => setTimeout(r, LEASE_POLL_MS));
    }
    return true;
  };

  const expired = (crl: StoredCrl | undefined) => !crl || crl.nextUpdate.getTime() <= Date.now();

  const current = async (): Promise<StoredCrl> => {
    const stored = await crls.current(keyId);
    if (!expired(stored)) return stored!;
    // Normally start()'s timer keeps the CRL fresh; this covers the first request and a stalled timer.
    await withLease(async () => {
      const crl = await crls.current(keyId);
      return expired(crl) ? (crl ? 'expired' : 'first') : undefined;
    });
    const signed = await crls.current(keyId);
    if (expired(signed)) throw new Error('no unexpired CRL could be signed');
    return signed!;
  };

  const check = async (): Promise<void> => {
    if ((await staleness(await crls.current(keyId))) === undefined) return;
    await withLease(async () => staleness(await crls.current(keyId)));
  };

  let timer: NodeJS.Timeout | undefined;
  let running = false;
  // A chain of timeouts rather than an interval: a slow store never piles up overlapping checks.
  const schedule = () => {
    timer = setTimeout(() => {
      void check()
        .catch((err) => o.logger.error({ err, event: 'crl.checkFailed' }, 'CRL check failed'))
        .finally(() => running && schedule());
    }, checkMs);
    timer.unref();
  };

  return {
    current,
    async regenerate(reason) {
      await withLease(async () => reason);
    },
    async start() {
      if (running) return;
      await check();
      running = true;
      schedule();
    },
    stop() {
      running = false;
      clearTimeout(timer);
    },
  };
}
