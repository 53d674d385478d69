import type { Command } from 'commander';
import type { RenewSelection } from '../store/index.js';
import { collect } from './options.js';
import { info } from './output.js';
import { cliActor, withAuditedStore } from './recorder.js';
import { storeTargetOptions, type StoreTargetOptions } from './store-target.js';

export function registerRenewNowCommand(program: Command): void {
  storeTargetOptions(
    program
      .command('renew-now')
      .description('pull the ARI renewal window of certificates into the past, so their holders renew at once')
      .option('--serial <hex>', 'a certificate serial (repeatable)', collect, [])
      .option('--profile <name>', 'every valid certificate of this profile')
      .option('--all', 'every valid certificate'),
  ).action(renewNow);
}

interface RenewNowOptions extends StoreTargetOptions {
  serial: string[];
  profile?: string;
  all?: boolean;
}

async function renewNow(opts: RenewNowOptions): Promise<void> {
  const chosen = [opts.serial.length > 0, opts.profile !== undefined, !!opts.all].filter(Boolean).length;
  if (chosen !== 1) throw new Error('choose exactly one of --serial, --profile and --all');
  for (const s of opts.serial) if (!/^[0-9a-fA-F]{1,64}$/.test(s)) throw new Error(`--serial "${s}" is not a hex serial`);
  const selection: RenewSelection = opts.serial.length
    ? { serials: opts.serial.map((s) => s.toLowerCase()) }
    : opts.profile !== undefined
      ? { profile: opts.profile }
      : { all: true };
  const count = await withAuditedStore(opts, async (store, audit) => {
    const renewed = await store.certificates.renewNow(selection, new Date());
    await audit.record({
      type: 'certificate.renew-now',
      outcome: 'success',
      ...cliActor(),
      ...('serials' in selection && selection.serials.length === 1 ? { subject: { kind: 'certificate' as const, id: selection.serials[0]! } } : {}),
      details: { ...('serials' in selection ? { serials: selection.serials } : 'profile' in selection ? { profile: selection.profile } : { all: true }), count: renewed },
    });
    return renewed;
  });
  info(`${count} certificate(s) told to renew now; their holders see it at their next renewalInfo poll`);
}
