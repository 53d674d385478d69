import type { AuditRecorder } from '../audit/event.js';
import { localSource, operatorActor } from '../audit/actors.js';
import { atnaSpoolWriter } from '../audit/atna-export.js';
import { createAuditRecorder } from '../audit/recorder.js';
import type { Acting } from '../policy/service.js';
import { openStore, type Store } from '../store/index.js';
import { resolveStoreTarget, type StoreTarget, type StoreTargetOptions } from './store-target.js';

/** The operator at this terminal, and this machine as the source, as the audit trail names them. */
export function cliActor(): Acting {
  return { actor: operatorActor(), source: localSource() };
}

/**
 * The recorder a CLI command hands its service: the one place where the CLI's events reach the
 * trail. It has no CA key, so it signs no checkpoints: the server's next one covers these entries.
 * With a config that exports to an Audit Record Repository, the events join the server's spool in
 * the data directory, and the server sends them.
 */
export function cliRecorder(store: Store, target?: StoreTarget): AuditRecorder {
  const syslog = target?.config?.audit.syslog;
  return createAuditRecorder({ store, ...(syslog ? { onStored: atnaSpoolWriter(target!.config!.data) } : {}) });
}

/** withStore, with the command's recorder. */
export async function withAuditedStore<T>(o: StoreTargetOptions, fn: (store: Store, audit: AuditRecorder) => Promise<T>): Promise<T> {
  const target = await resolveStoreTarget(o);
  const store = await openStore(target.store);
  try {
    return await fn(store, cliRecorder(store, target));
  } finally {
    await store.close();
  }
}
