import { cliActor as operatorActor, localSource } from '../audit/actors.js';
import type { Acting, ServiceDeps } from '../policy/service.js';
import type { Store } from '../store/index.js';
import type { CliAudit } from './audited-store.js';

/** The operator at this terminal, and this machine as the source, as the audit trail names them. */
export function cliActor(): Acting {
  return { actor: operatorActor(), source: localSource() };
}

/** The device and user services of a CLI command, recording through the command's audit (audited-store.ts). */
export function cliServices(store: Store, audit: CliAudit): ServiceDeps {
  return { store, audit: { record: (event) => audit(event) } };
}
