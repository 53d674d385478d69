import type { IssuingCa } from '../pki/issuing-ca.js';
import type { AuditEntry, NewAuditEntry, Store } from '../store/index.js';
import { boundEvent } from './bounds.js';
import { checkpointUnlessSigned, everyNEntries } from './checkpoint.js';
import type { AuditEvent, AuditRecorder } from './event.js';

export interface StoreRecorderOptions {
  store: Store;
  /** Who signs checkpoints; CLI commands have no CA key and leave checkpoints to the server. */
  checkpoints?: { ca: IssuingCa; every: number };
  /** Gets what was stored before record() resolves (the ATNA spool); a failure fails the record. */
  onStored?: (entries: AuditEntry[]) => Promise<void>;
  now?: () => Date;
}

export interface StoreAuditRecorder extends AuditRecorder {
  /** Waits for pending records, then signs the chain head unless the newest entry is a checkpoint. */
  checkpointNow(): Promise<void>;
}

/** Appends per transaction at most this many events that arrived while the previous append ran. */
const MAX_BATCH = 256;

interface Pending {
  entry: NewAuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The AuditRecorder behind every command and the server. Events that arrive while an append is
 * running go into the next append together (group commit): the chain head is locked once per batch,
 * not once per event, which keeps auditing cheap when hundreds of certificates a second are issued.
 */
export function createAuditRecorder(o: StoreRecorderOptions): StoreAuditRecorder {
  const now = o.now ?? (() => new Date());
  const policy = o.checkpoints && everyNEntries(o.checkpoints.ca, o.checkpoints.every, now);
  const queue: Pending[] = [];
  let draining: Promise<void> | undefined;

  const store = async (entries: NewAuditEntry[], p = policy) => {
    const stored = await o.store.audit.append(entries, p);
    await o.onStored?.(stored);
  };

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await store(batch.map((p) => p.entry));
        batch.forEach((p) => p.resolve());
      } catch (err) {
        batch.forEach((p) => p.reject(err));
      }
    }
    draining = undefined;
  };

  return {
    record(event: AuditEvent) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ entry: { ...boundEvent(event), at: now() }, resolve, reject });
        draining ??= drain();
      });
    },
    async checkpointNow() {
      if (!o.checkpoints) throw new Error('this recorder has no CA key to sign checkpoints with');
      await draining;
      await store([], checkpointUnlessSigned(o.checkpoints.ca, now));
    },
  };
}
