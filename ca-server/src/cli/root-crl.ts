import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { REVOCATION_REASONS, signCrl, type RevokedEntry } from '../pki/crl.js';
import { exists, PUBLIC_MODE, writeFileAtomic } from '../pki/files.js';
import { assertIssuedBy } from '../pki/issuing-ca.js';
import { describeIssues, ConfigError } from '../config/schema-errors.js';
import { info, wrote } from './output.js';
import { openRoot } from '../ca/ceremony.js';
import { readRootPassphrase } from './root.js';

const DAY_MS = 86_400_000;

const stateSchema = z
  .object({
    number: z.string().regex(/^\d+$/),
    revoked: z.array(
      z.object({ serial: z.string().regex(/^[0-9a-f]+$/), revokedAt: z.iso.datetime(), reason: z.number().int().min(0).max(10) }).strict(),
    ),
  })
  .strict();

interface CrlOptions {
  dir: string;
  out: string;
  revoke: string[];
  reason: string;
  days: number;
  passphraseFile?: string;
}

export async function signRootCrl(opts: CrlOptions): Promise<void> {
  const reason = REVOCATION_REASONS[opts.reason];
  if (reason === undefined) {
    throw new Error(`--reason "${opts.reason}" is not an RFC 5280 reason (${Object.keys(REVOCATION_REASONS).join(', ')})`);
  }
  const revoking = await Promise.all(opts.revoke.map(async (f) => new x509.X509Certificate(await readFile(f, 'utf8'))));
  const root = await openRoot(opts.dir, await readRootPassphrase(opts.passphraseFile));
  const state = await readState(root.paths.crlState);
  const now = new Date();
  for (const cert of revoking) {
    await assertIssuedBy(cert, root.cert);
    const serial = cert.serialNumber.toLowerCase();
    if (state.revoked.some((r) => r.serial === serial)) {
      info(`${cert.subject} (serial ${serial}) was already revoked`);
      continue;
    }
    state.revoked.push({ serial, revokedAt: now, reason });
    info(`revoked ${cert.subject} (serial ${serial}, ${opts.reason})`);
  }
  state.number += 1n;
  const crl = await signCrl({
    issuer: root.cert,
    key: root.key,
    number: state.number,
    entries: state.revoked,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + opts.days * DAY_MS),
  });
  // The state goes first: a lost CRL write costs a skipped number, never a reused one.
  await writeState(root.paths.crlState, state);
  const der = /\.(crl|der)$/i.test(opts.out);
  await writeFileAtomic(opts.out, der ? new Uint8Array(crl.rawData) : crlPem(crl), { mode: PUBLIC_MODE, replace: true });
  wrote(opts.out, `root CRL number ${state.number}, ${state.revoked.length} revoked, next update ${crl.nextUpdate?.toISOString()}`);
}

/** OpenSSL reads only the RFC 7468 label "X509 CRL". */
function crlPem(crl: x509.X509Crl): string {
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL') + '\n';
}

interface CrlState {
  number: bigint;
  revoked: RevokedEntry[];
}

async function readState(path: string): Promise<CrlState> {
  if (!(await exists(path))) return { number: 0n, revoked: [] };
  const parsed = stateSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new ConfigError(describeIssues(path, parsed.error));
  return {
    number: BigInt(parsed.data.number),
    revoked: parsed.data.revoked.map((r) => ({ ...r, revokedAt: new Date(r.revokedAt) })),
  };
}

async function writeState(path: string, state: CrlState): Promise<void> {
  const json = {
    number: state.number.toString(),
    revoked: state.revoked.map((r) => ({ ...r, revokedAt: r.revokedAt.toISOString() })),
  };
  await writeFileAtomic(path, JSON.stringify(json, null, 2) + '\n', { mode: PUBLIC_MODE, replace: true });
}
