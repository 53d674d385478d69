import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { caKeyAlgorithm } from '../pki/algorithms.js';
import { installIntermediate, requestIntermediate } from '../ca/ceremony.js';
import { describeConstraints, readNameConstraints } from '../pki/name-constraints.js';
import { info, wrote } from './output.js';
import { readPassphrase } from './passphrase.js';

export const CA_PASSPHRASE = 'WARDCERT_CA_PASSPHRASE';

export function registerIntermediateCommands(program: Command): void {
  const cmd = program.command('intermediate').description('the online issuing CA');

  cmd
    .command('request')
    .description('make the issuing CA key and a request for the root to sign')
    .requiredOption('--data <DATA>', 'the CA data directory')
    .requiredOption('--subject <DN>', 'issuing CA name, e.g. "CN=Example Hospital Device CA,O=Example Hospital"')
    .option('--algorithm <name>', 'key algorithm (BSI TR-02102-1)', 'ecdsa-p384')
    .option('--passphrase-file <file>', `issuing key passphrase (else $${CA_PASSPHRASE} or a prompt)`)
    .option('--force', 'replace an existing key and request')
    .action(intermediateRequest);

  cmd
    .command('install')
    .description('install the signed issuing CA certificate and the root it chains to')
    .requiredOption('--data <DATA>', 'the CA data directory')
    .requiredOption('--cert <file>', 'issuing CA certificate from "root sign"')
    .requiredOption('--root <file>', 'root certificate (root.crt.pem; never the key)')
    .option('--force', 'replace an installed certificate')
    .action(intermediateInstall);
}

interface RequestOptions {
  data: string;
  subject: string;
  algorithm: string;
  passphraseFile?: string;
  force?: boolean;
}

async function intermediateRequest(opts: RequestOptions): Promise<void> {
  caKeyAlgorithm(opts.algorithm); // refuse before asking for a passphrase
  const passphrase = await readPassphrase({ envVar: CA_PASSPHRASE, file: opts.passphraseFile, label: 'issuing CA key', confirm: true });
  const { written } = await requestIntermediate({ ...opts, passphrase, force: !!opts.force });
  written.forEach((w) => wrote(w.path, w.what));
}

interface InstallOptions {
  data: string;
  cert: string;
  root: string;
  force?: boolean;
}

async function intermediateInstall(opts: InstallOptions): Promise<void> {
  const [certPem, rootPem] = await Promise.all([readFile(opts.cert, 'utf8'), readFile(opts.root, 'utf8')]);
  const { cert, written } = await installIntermediate({ data: opts.data, certPem, rootPem, rootSource: opts.root, force: !!opts.force });
  written.forEach((w) => wrote(w.path, w.what));
  info(`issuing CA ${cert.subject}, valid until ${cert.notAfter.toISOString()}, name constraints: ${describeConstraints(readNameConstraints(cert))}`);
}
