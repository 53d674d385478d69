import { cliActor as operatorActor, localSource } from '../audit/actors.js';
import type { AuditRecorder } from '../audit/event.js';
import { createAuditRecorder } from '../audit/recorder.js';
import type { Acting } from '../policy/service.js';
import type { Store } from '../store/index.js';

/** The operator at this terminal, and this machine as the source, as the audit trail names them. */
export function cliActor(): Acting {
  return { actor: operatorActor(), source: localSource() };
}

/** The trail a CLI command's services record into: no CA key here, so the server signs the next checkpoint. */
export function cliRecorder(store: Store): AuditRecorder {
  return createAuditRecorder({ store });
}
