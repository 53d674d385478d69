import type { Command } from 'commander';
import { isIP } from 'node:net';
import { normaliseCidr, normaliseDnsSuffix } from '../pki/name-constraints.js';
import { info } from './output.js';
import { storeTargetOptions, withStore, type StoreTargetOptions } from './store-target.js';

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

/** Validates an allow-list entry: "gw1.hospital.test", ".radiology.hospital.test", "10.20.1.5" or "10.20.0.0/16". */
export function normaliseAllowEntry(entry: string): string {
  if (entry.includes('/')) return normaliseCidr(entry);
  if (isIP(entry)) return entry;
  return entry.startsWith('.') ? `.${normaliseDnsSuffix(entry)}` : normaliseDnsSuffix(entry);
}

async function create(opts: CreateOptions): Promise<void> {
  if (opts.device !== undefined && !/^[\w.-]{1,128}$/.test(opts.device)) throw new Error('--device: letters, digits, dot, dash and underscore, at most 128');
  const identifiers = (opts.identifiers ?? []).map(normaliseAllowEntry);
  const credential = await withStore(opts, (store) => store.eab.create({ deviceId: opts.device ?? null, identifiers }, new Date()));
  if (opts.json) {
    info(JSON.stringify({ kid: credential.kid, hmacKey: credential.hmacKey }));
    return;
  }
  info(`kid:     ${credential.kid}`);
  info(`hmacKey: ${credential.hmacKey}`);
  info(`single use: it binds the first ACME account that presents it${credential.deviceId ? ` (device ${credential.deviceId})` : ''}`);
  if (identifiers.length) info(`that account may order only: ${identifiers.join(', ')}`);
}
