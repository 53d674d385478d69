import type { Logger } from 'pino';
import { signCrl } from '../pki/crl.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import type { Store, StoredCrl } from '../store/index.js';

export interface CrlPublisherOptions {
  store: Store;
  ca: IssuingCa;
  logger: Logger;
  /** nextUpdate - thisUpdate. */
  validityMs?: number;
  /** A CRL is re-signed this long before its nextUpdate. */
  regenerateBeforeMs?: number;
}

export interface CrlPublisher {
  /** The current CRL, signing the first one if there is none or it is due. */
  current(): Promise<StoredCrl>;
  /** Signs a new CRL now (after a revocation); waits briefly if another instance holds the lease. */
  regenerate(reason: string): Promise<void>;
  start(): Promise<void>;
  stop(): void;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const LEASE_MS = 30_000;
const LEASE_WAIT_MS = 100;
const LEASE_TRIES = 100;

/**
 * The issuing CA's CRL, kept in the store: numbers only grow, and with several instances on one
 * database a lease makes exactly one sign at a time. Certificates that expired more than a day ago
 * leave the CRL (RFC 5280 allows it), or short-lived certificates would grow it forever.
 */
export function createCrlPublisher(o: CrlPublisherOptions): CrlPublisher {
  const validityMs = o.validityMs ?? DAY_MS;
  const regenerateBeforeMs = o.regenerateBeforeMs ?? 8 * HOUR_MS;
  const keyId = o.ca.keyId;
  let timer: NodeJS.Timeout | undefined;

  const signNext = async (reason: string): Promise<boolean> => {
    const now = new Date();
    const last = await o.store.crls.lease(keyId, now, new Date(now.getTime() + LEASE_MS));
    if (last === undefined) return false;
    try {
      const entries = await o.store.certificates.revoked({ expiredBefore: new Date(now.getTime() - DAY_MS) });
      const number = last + 1n;
      const crl = await signCrl({ issuer: o.ca.cert, key: o.ca.key, number, entries, thisUpdate: now, nextUpdate: new Date(now.getTime() + validityMs) });
      await o.store.crls.publish(keyId, { number, der: new Uint8Array(crl.rawData), thisUpdate: now, nextUpdate: crl.nextUpdate! });
      o.logger.info({ event: 'crl.signed', number: number.toString(), entries: entries.length, reason }, 'CRL signed');
      return true;
    } catch (err) {
      await o.store.crls.release(keyId);
      throw err;
    }
  };

  const regenerate = async (reason: string): Promise<void> => {
    for (let i = 0; i < LEASE_TRIES; i++) {
      if (await signNext(reason)) return;
      await new Promise((r) => setTimeout(r, LEASE_WAIT_MS));
    }
    o.logger.warn({ event: 'crl.leaseBusy' }, 'another instance held the CRL lease too long; the periodic check will sign');
  };

  const due = (crl: StoredCrl | undefined) => !crl || crl.nextUpdate.getTime() - regenerateBeforeMs <= Date.now();

  const current = async (): Promise<StoredCrl> => {
    let crl = await o.store.crls.current(keyId);
    if (due(crl)) {
      await regenerate(crl ? 'due' : 'first');
      crl = await o.store.crls.current(keyId);
    }
    if (!crl) throw new Error('no CRL could be signed');
    return crl;
  };

  return {
    current,
    regenerate,
    async start() {
      await current();
      timer = setInterval(() => {
        void current().catch((err) => o.logger.error({ err }, 'CRL check failed'));
      }, Math.min(HOUR_MS, regenerateBeforeMs / 4));
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
