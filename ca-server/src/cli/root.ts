import type * as x509 from '@peculiar/x509';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { caKeyAlgorithm } from '../pki/algorithms.js';
import { initRoot, signIntermediateRequest } from '../ca/ceremony.js';
import { describeConstraints, normaliseCidr, normaliseDnsSuffix, type ConstraintSet } from '../pki/name-constraints.js';
import { signRootCrl } from './root-crl.js';
import { collect, integerIn } from './options.js';
import { info, warn, wrote } from './output.js';
import { readPassphrase } from './passphrase.js';

const ROOT_PASSPHRASE = 'WARDCERT_ROOT_PASSPHRASE';

export function registerRootCommands(program: Command): void {
  const root = program.command('root').description('the offline root CA (run these on the offline machine)');

  root
    .command('init')
    .description('make the root key and self-signed root certificate')
    .requiredOption('--dir <ROOT>', 'directory for root.key.pem and root.crt.pem')
    .requiredOption('--subject <DN>', 'root name, e.g. "CN=Example Hospital Root CA,O=Example Hospital"')
    .option('--algorithm <name>', 'key algorithm (BSI TR-02102-1)', 'ecdsa-p384')
    .option('--years <n>', 'validity in years', integerIn(1, 30), 20)
    .option('--passphrase-file <file>', `root key passphrase (else $${ROOT_PASSPHRASE} or a prompt)`)
    .option('--force', 'replace an existing root key and certificate')
    .action(rootInit);

  root
    .command('sign')
    .description('sign an issuing CA request with the root')
    .requiredOption('--dir <ROOT>', 'root directory')
    .requiredOption('--csr <file>', 'the issuing CA request (intermediate.csr.pem)')
    .requiredOption('--out <file>', 'where to write the issuing CA certificate')
    .option('--days <n>', 'validity in days', integerIn(1, 7305), 1825)
    .option('--permit-dns <suffix>', 'permitted DNS subtree (repeatable)', collect, [])
    .option('--permit-ip <cidr>', 'permitted IP range (repeatable)', collect, [])
    .option('--exclude-dns <suffix>', 'excluded DNS subtree (repeatable)', collect, [])
    .option('--exclude-ip <cidr>', 'excluded IP range (repeatable)', collect, [])
    .option('--crl-url <url>', "where relying parties fetch the root's CRL")
    .option('--passphrase-file <file>', `root key passphrase (else $${ROOT_PASSPHRASE} or a prompt)`)
    .option('--force', 'replace an existing output file')
    .action(rootSign);

  root
    .command('crl')
    .description("sign the root's CRL (keeps earlier revocations; numbers increase)")
    .requiredOption('--dir <ROOT>', 'root directory')
    .requiredOption('--out <file>', 'CRL file: DER when it ends in .crl or .der, else PEM')
    .option('--revoke <certfile>', 'revoke this issuing CA certificate (repeatable)', collect, [])
    .option('--reason <name>', 'revocation reason for --revoke (RFC 5280 name)', 'cessationOfOperation')
    .option('--days <n>', 'nextUpdate in days', integerIn(1, 366), 90)
    .option('--passphrase-file <file>', `root key passphrase (else $${ROOT_PASSPHRASE} or a prompt)`)
    .action(signRootCrl);
}

interface InitOptions {
  dir: string;
  subject: string;
  algorithm: string;
  years: number;
  passphraseFile?: string;
  force?: boolean;
}

async function rootInit(opts: InitOptions): Promise<void> {
  caKeyAlgorithm(opts.algorithm); // refuse before asking for a passphrase
  const passphrase = await readPassphrase({ envVar: ROOT_PASSPHRASE, file: opts.passphraseFile, label: 'root key', confirm: true });
  const { cert, spec, written } = await initRoot({ ...opts, passphrase, force: !!opts.force });
  written.forEach((w) => wrote(w.path, w.what));
  info(`root ${cert.subject}, ${spec.name}, valid until ${cert.notAfter.toISOString()}`);
  info(`SHA-256 fingerprint ${await fingerprint(cert)}: record it in the ceremony log`);
}

export function readRootPassphrase(file: string | undefined): Promise<string> {
  return readPassphrase({ envVar: ROOT_PASSPHRASE, file, label: 'root key' });
}

interface SignOptions {
  dir: string;
  csr: string;
  out: string;
  days: number;
  permitDns: string[];
  permitIp: string[];
  excludeDns: string[];
  excludeIp: string[];
  crlUrl?: string;
  passphraseFile?: string;
  force?: boolean;
}

async function rootSign(opts: SignOptions): Promise<void> {
  const constraints: ConstraintSet = {
    permitDns: opts.permitDns.map(normaliseDnsSuffix),
    permitIp: opts.permitIp.map(normaliseCidr),
    excludeDns: opts.excludeDns.map(normaliseDnsSuffix),
    excludeIp: opts.excludeIp.map(normaliseCidr),
  };
  if (opts.crlUrl !== undefined && !/^https?:\/\/\S+$/.test(opts.crlUrl)) throw new Error(`--crl-url "${opts.crlUrl}" is not an http(s) URL`);
  const { cert, written } = await signIntermediateRequest({
    rootDir: opts.dir,
    rootPassphrase: await readRootPassphrase(opts.passphraseFile),
    csrPem: await readFile(opts.csr, 'utf8'),
    out: opts.out,
    days: opts.days,
    constraints,
    crlUrl: opts.crlUrl,
    force: !!opts.force,
  });
  written.forEach((w) => wrote(w.path, w.what));
  info(`issuing CA ${cert.subject}, serial ${cert.serialNumber}, valid until ${cert.notAfter.toISOString()}`);
  info(`name constraints: ${describeConstraints(constraints)}`);
  if (constraints.permitDns.length && !constraints.permitIp.length) {
    warn('DNS names are constrained but IP addresses are not: add --permit-ip for the device networks');
  }
}

export async function fingerprint(cert: x509.X509Certificate): Promise<string> {
  const hash = Buffer.from(await cert.getThumbprint('SHA-256'));
  return [...hash].map((b) => b.toString(16).padStart(2, '0')).join(':').toUpperCase();
}
