import { localSource, cliActor } from '../audit/actors.js';
import { atnaSpoolWriter } from '../audit/atna-export.js';
import type { AuditEvent } from '../audit/event.js';
import { createAuditRecorder } from '../audit/recorder.js';
import { openStore, type Store } from '../store/index.js';
import { resolveStoreTarget, type StoreTargetOptions } from './store-target.js';

/** Records an event of this command: the actor is the operator's login, the source this machine. */
export type CliAudit = (event: Omit<AuditEvent, 'actor' | 'source'>) => Promise<void>;

/**
 * The one way a CLI command reaches the audit trail. It has no CA key, so it signs no checkpoints:
 * the server signs the next one over these entries too.
 */
export async function withAuditedStore<T>(o: StoreTargetOptions, fn: (store: Store, audit: CliAudit) => Promise<T>): Promise<T> {
  const target = await resolveStoreTarget(o);
  const store = await openStore(target.store);
  try {
    // With a config that exports to an Audit Record Repository, the command's events join the
    // server's spool in the data directory, and the server sends them.
    const syslog = target.config?.audit.syslog;
    const recorder = createAuditRecorder({ store, ...(syslog ? { onStored: atnaSpoolWriter(target.config!.data) } : {}) });
    const actor = cliActor();
    const source = localSource();
    return await fn(store, (event) => recorder.record({ ...event, actor, source }));
  } finally {
    await store.close();
  }
}
