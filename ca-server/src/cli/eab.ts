import type { Command } from 'commander';
import { normaliseAllowEntry } from '../acme/identifiers.js';
import { newEnrolmentCredential } from '../policy/devices.js';
import { info } from './output.js';
import { cliActor, withAuditedStore } from './recorder.js';
import { storeTargetOptions, type StoreTargetOptions } from './store-target.js';

export function registerEabCommands(program: Command): void {
  const eab = program.command('eab').description('external account binding credentials (RFC 8555 s7.3.4)');
  storeTargetOptions(
    eab
      .command('create')
      .description('make a single-use EAB credential, optionally bound to a device and its identifiers')
      .option('--device <name>', 'the device this credential enrols')
      .option('--identifiers <id...>', 'names it may order: exact names, .suffixes, CIDR blocks')
      .option('--json', 'print {"kid","hmacKey"} as JSON'),
  ).action(create);
}

interface CreateOptions extends StoreTargetOptions {
  device?: string;
  identifiers?: string[];
  json?: boolean;
}

/** A device in the inventory gets a credential for its current identifiers; any other name is a free label. */
async function create(opts: CreateOptions): Promise<void> {
  if (opts.device !== undefined && !/^[\w.-]{1,128}$/.test(opts.device)) throw new Error('--device: letters, digits, dot, dash and underscore, at most 128');
  const identifiers = (opts.identifiers ?? []).map(normaliseAllowEntry);
  const credential = await withAuditedStore(opts, async (store, audit) => {
    const device = opts.device === undefined ? undefined : await store.devices.byName(opts.device);
    if (device) {
      if (identifiers.length) throw new Error(`--identifiers: device ${device.name} is in the inventory; its own identifiers apply (change them there)`);
      return { ...(await newEnrolmentCredential({ store, audit }, device.id, cliActor())), identifiers: device.allowedIdentifiers };
    }
    const made = await store.eab.create({ deviceId: opts.device ?? null, identifiers }, new Date());
    await audit.record({ type: 'eab.created', outcome: 'success', ...cliActor(), subject: { kind: 'eab', id: made.kid }, details: { device: opts.device ?? null, identifiers } });
    return made;
  });
  if (opts.json) {
    info(JSON.stringify({ kid: credential.kid, hmacKey: credential.hmacKey }));
    return;
  }
  info(`kid:     ${credential.kid}`);
  info(`hmacKey: ${credential.hmacKey}`);
  info(`single use: it binds the first ACME account that presents it${opts.device ? ` (device ${opts.device})` : ''}`);
  if (credential.identifiers.length) info(`that account may order only: ${credential.identifiers.join(', ')}`);
}
