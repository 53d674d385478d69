import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { caKeyAlgorithm } from '../pki/algorithms.js';
import { createCsr } from '../pki/ca-certificates.js';
import { assertWritable, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from '../pki/files.js';
import { assertIssuedBy, CaSetupError } from '../pki/issuing-ca.js';
import { encryptPrivateKey, generateKey, toSigningKey } from '../pki/keys.js';
import { caLayout } from '../pki/layout.js';
import { describeConstraints, readNameConstraints } from '../pki/name-constraints.js';
import { parseSubject } from '../pki/subject.js';
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
  const spec = caKeyAlgorithm(opts.algorithm);
  const subject = parseSubject(opts.subject);
  const paths = caLayout(opts.data);
  await assertWritable([paths.key, paths.csr], !!opts.force);
  const passphrase = await readPassphrase({ envVar: CA_PASSPHRASE, file: opts.passphraseFile, label: 'issuing CA key', confirm: true });
  const keyObject = await generateKey(spec);
  const csr = await createCsr(await toSigningKey(keyObject), subject);
  await writeFileAtomic(paths.key, encryptPrivateKey(keyObject, passphrase), { mode: PRIVATE_MODE, replace: !!opts.force });
  wrote(paths.key, 'issuing CA private key, encrypted, mode 0600');
  await writeFileAtomic(paths.csr, csr.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: !!opts.force });
  wrote(paths.csr, 'request: carry it to the offline root for "wardcert-ca root sign"');
}

interface InstallOptions {
  data: string;
  cert: string;
  root: string;
  force?: boolean;
}

async function intermediateInstall(opts: InstallOptions): Promise<void> {
  const paths = caLayout(opts.data);
  const [certPem, rootPem, csrPem] = await Promise.all([readFile(opts.cert, 'utf8'), readFile(opts.root, 'utf8'), readFile(paths.csr, 'utf8')]);
  if (rootPem.includes('PRIVATE KEY')) {
    throw new CaSetupError(`${opts.root} contains a private key: give the root certificate only; the root key stays offline`);
  }
  const cert = new x509.X509Certificate(certPem);
  const root = new x509.X509Certificate(rootPem);
  if (root.subject !== root.issuer) throw new CaSetupError(`${opts.root} is not a self-signed root certificate`);
  await assertIssuedBy(root, root);
  await assertIssuedBy(cert, root);
  const request = new x509.Pkcs10CertificateRequest(csrPem);
  if (!Buffer.from(request.publicKey.rawData).equals(Buffer.from(cert.publicKey.rawData))) {
    throw new CaSetupError(`${opts.cert} was not made from ${paths.csr}: its public key differs`);
  }
  await assertWritable([paths.cert, paths.root], !!opts.force);
  await writeFileAtomic(paths.root, root.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: !!opts.force });
  wrote(paths.root, 'root certificate, the trust anchor devices receive');
  await writeFileAtomic(paths.cert, cert.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: !!opts.force });
  wrote(paths.cert, 'issuing CA certificate');
  info(`issuing CA ${cert.subject}, valid until ${cert.notAfter.toISOString()}, name constraints: ${describeConstraints(readNameConstraints(cert))}`);
}
