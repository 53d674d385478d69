import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { issueAndRecord } from '../ca/issue-and-record.js';
import { parseDuration } from '../config/duration.js';
import { checkCsr } from '../pki/csr.js';
import { assertWritable, PUBLIC_MODE, writeFileAtomic } from '../pki/files.js';
import { loadIssuingCa } from '../pki/issuing-ca.js';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '../pki/profiles.js';
import { openStore } from '../store/index.js';
import { CA_PASSPHRASE } from './intermediate.js';
import { info, warn, wrote } from './output.js';
import { readPassphrase } from './passphrase.js';

export function registerIssueCommand(program: Command): void {
  program
    .command('issue')
    .description('sign a device CSR under a profile (the manual path for devices without an agent)')
    .requiredOption('--data <DATA>', 'the CA data directory')
    .requiredOption('--csr <file>', 'PKCS#10 request made on the device')
    .requiredOption('--profile <name>', 'certificate profile, e.g. dicom-node')
    .requiredOption('--out <file>', 'where to write the certificate chain (leaf, then issuing CA)')
    .option('--validity <duration>', "lifetime such as 72h or 30d (default: the profile's)")
    .option('--profiles <dir>', 'profile directory', BUNDLED_PROFILES_DIR)
    .option('--http-base <url>', "base URL of the CA's HTTP side, for CRL/OCSP/AIA URLs in the certificate")
    .option('--database <url>', 'PostgreSQL URL (default: SQLite in the data directory)')
    .option('--passphrase-file <file>', `issuing key passphrase (else $${CA_PASSPHRASE} or a prompt)`)
    .option('--force', 'replace an existing output file')
    .action(issue);
}

interface IssueOptions {
  data: string;
  csr: string;
  profile: string;
  out: string;
  validity?: string;
  profiles: string;
  httpBase?: string;
  database?: string;
  passphraseFile?: string;
  force?: boolean;
}

async function issue(opts: IssueOptions): Promise<void> {
  const validityMs = opts.validity === undefined ? undefined : parseDuration(opts.validity);
  if (opts.validity !== undefined && !validityMs) throw new Error(`--validity "${opts.validity}" is not a duration such as 72h or 30d`);
  const profile = (await loadProfiles(opts.profiles)).get(opts.profile);
  if (!profile) throw new Error(`no profile "${opts.profile}" in ${opts.profiles}`);
  const request = await checkCsr(await readFile(opts.csr, 'utf8'));
  await assertWritable([opts.out], !!opts.force);
  const passphrase = await readPassphrase({ envVar: CA_PASSPHRASE, file: opts.passphraseFile, label: 'issuing CA key' });
  const ca = await loadIssuingCa({ dataDir: opts.data, passphrase });
  if (!opts.httpBase && (profile.urls.crl ?? profile.urls.ocsp ?? '').includes('{httpBase}')) {
    warn('no --http-base: the certificate carries no CRL or OCSP URL');
  }
  const store = await openStore({ dataDir: opts.data, ...(opts.database ? { url: opts.database } : {}) });
  try {
    const leaf = await issueAndRecord(store, { ca, profile, request, validityMs, httpBase: opts.httpBase, onLegacyKey: warn });
    await writeFileAtomic(opts.out, leaf.chainPem, { mode: PUBLIC_MODE, replace: !!opts.force });
    wrote(opts.out, `${profile.name} certificate chain`);
    info(`serial ${leaf.serial}, ${leaf.identifiers.map((i) => i.value).join(', ')}, valid until ${leaf.notAfter.toISOString()}`);
  } finally {
    await store.close();
  }
}
