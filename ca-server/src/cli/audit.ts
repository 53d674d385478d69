import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { AuditEventType } from '../audit/event.js';
import { verifyAuditTrail } from '../audit/verify.js';
import { caSignatureCheck } from '../pki/audit-signature.js';
import { openStore, type AuditEntry, type AuditQuery } from '../store/index.js';
import { collect, integerIn } from './options.js';
import { info } from './output.js';
import { resolveStoreTarget, storeTargetOptions, withStore, type StoreTargetOptions } from './store-target.js';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  storeTargetOptions(
    audit
      .command('verify')
      .description('walk the hash chain and check every signed checkpoint against the CA certificates in the data directory'),
  ).action(verify);
  storeTargetOptions(
    audit
      .command('list')
      .description('audit entries, newest first')
      .option('--from <ISO>', 'entries at or after this time', isoDate)
      .option('--to <ISO>', 'entries before this time', isoDate)
      .option('--type <type>', 'an event type such as certificate.issued (repeatable)', collect, [])
      .option('--outcome <outcome>', 'success or failure', outcome)
      .option('--actor <id>', "an actor's id or name")
      .option('--subject <id>', "a subject's id (serial, account, device...)")
      .option('--before-seq <N>', 'only entries older than this sequence number (the next page)', integerIn(1, Number.MAX_SAFE_INTEGER))
      .option('--limit <N>', 'at most this many entries (default 50)', integerIn(1, 1000))
      .option('--json', 'one JSON object per line'),
  ).action(list);
}

async function verify(opts: StoreTargetOptions): Promise<void> {
  const target = await resolveStoreTarget(opts);
  if (target.store.dataDir === undefined) throw new Error('audit verify needs --data DIR or --config FILE: checkpoints are checked against the CA certificates there');
  const check = await caSignatureCheck(target.store.dataDir);
  const store = await openStore(target.store);
  try {
    const result = await verifyAuditTrail(store.audit, check);
    if (!result.ok) throw new Error(`audit trail broken at entry ${result.seq}: ${result.problem}`);
    const unsigned = result.entries - result.lastCheckpointSeq;
    info(
      `audit trail intact: ${result.entries} entries, ${result.checkpoints} signed checkpoint(s)` +
        (result.checkpoints ? ` (newest at entry ${result.lastCheckpointSeq})` : '') +
        // With no checkpoint yet there is no "it" for the unsigned entries to follow.
        (unsigned ? `; ${unsigned} entries ${result.checkpoints ? 'after it ' : ''}not yet signed` : ''),
    );
  } finally {
    await store.close();
  }
}

interface ListOptions extends StoreTargetOptions {
  from?: Date;
  to?: Date;
  type: string[];
  outcome?: AuditEntry['outcome'];
  actor?: string;
  subject?: string;
  beforeSeq?: number;
  limit?: number;
  json?: boolean;
}

async function list(opts: ListOptions): Promise<void> {
  const query: AuditQuery = {
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.to ? { to: opts.to } : {}),
    ...(opts.type.length ? { types: opts.type as AuditEventType[] } : {}),
    ...(opts.outcome ? { outcome: opts.outcome } : {}),
    ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
    ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
    ...(opts.beforeSeq !== undefined ? { beforeSeq: opts.beforeSeq } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
  };
  const entries = await withStore(opts, (store) => store.audit.list(query));
  for (const e of entries) info(opts.json ? JSON.stringify({ ...e, at: e.at.toISOString() }) : line(e));
}

function line(e: AuditEntry): string {
  const who = `${e.actor.kind}:${e.actor.name ?? e.actor.id}`;
  const what = e.subject ? `${e.subject.kind}:${e.subject.id}` : '-';
  return [e.seq, e.at.toISOString(), e.type, e.outcome, who, e.source ?? '-', what, e.details ? JSON.stringify(e.details) : ''].join('\t');
}

function isoDate(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw new InvalidArgumentError('expected an ISO 8601 time such as 2026-01-31T12:00:00Z');
  return d;
}

function outcome(value: string): AuditEntry['outcome'] {
  if (value !== 'success' && value !== 'failure') throw new InvalidArgumentError('expected success or failure');
  return value;
}
