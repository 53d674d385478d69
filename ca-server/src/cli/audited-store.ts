import { localSource, cliActor } from '../audit/actors.js';
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
    const recorder = createAuditRecorder({ store });
    const actor = cliActor();
    const source = localSource();
    return await fn(store, (event) => recorder.record({ ...event, actor, source }));
  } finally {
    await store.close();
  }
}
