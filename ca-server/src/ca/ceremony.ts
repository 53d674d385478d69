import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readFile } from 'node:fs/promises';
import { caKeyAlgorithm } from '../pki/algorithms.js';
import { createCsr, createRootCertificate, signIntermediate } from '../pki/ca-certificates.js';
import { checkCsr } from '../pki/csr.js';
import { assertWritable, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from '../pki/files.js';
import { assertIssuedBy, CaSetupError } from '../pki/issuing-ca.js';
import { decryptPrivateKey, encryptPrivateKey, generateKey, toSigningKey } from '../pki/keys.js';
import { caLayout, rootLayout } from '../pki/layout.js';
import type { ConstraintSet } from '../pki/name-constraints.js';
import { parseSubject } from '../pki/subject.js';

/**
 * The key ceremony's steps as functions with explicit inputs: the CLI commands and quickstart both
 * run these, so the demo PKI is made exactly like a real one.
 */

export interface Written {
  path: string;
  what: string;
}

export async function initRoot(o: { dir: string; subject: string; algorithm: string; years: number; passphrase: string; force: boolean }) {
  const spec = caKeyAlgorithm(o.algorithm);
  const subject = parseSubject(o.subject);
  const paths = rootLayout(o.dir);
  await assertWritable([paths.key, paths.cert], o.force);
  const keyObject = await generateKey(spec);
  const cert = await createRootCertificate(await toSigningKey(keyObject), subject, o.years);
  await writeFileAtomic(paths.key, encryptPrivateKey(keyObject, o.passphrase), { mode: PRIVATE_MODE, replace: o.force });
  await writeFileAtomic(paths.cert, cert.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: o.force });
  const written: Written[] = [
    { path: paths.key, what: 'root private key, encrypted, mode 0600' },
    { path: paths.cert, what: 'root certificate' },
  ];
  return { cert, spec, written };
}

/** Loads the root certificate and decrypts its key. */
export async function openRoot(dir: string, passphrase: string) {
  const paths = rootLayout(dir);
  const [keyPem, certPem] = await Promise.all([readFile(paths.key, 'utf8'), readFile(paths.cert, 'utf8')]);
  const key = await toSigningKey(decryptPrivateKey(keyPem, passphrase, paths.key));
  return { cert: new x509.X509Certificate(certPem), key, paths };
}

export async function requestIntermediate(o: { data: string; subject: string; algorithm: string; passphrase: string; force: boolean }) {
  const spec = caKeyAlgorithm(o.algorithm);
  const subject = parseSubject(o.subject);
  const paths = caLayout(o.data);
  await assertWritable([paths.key, paths.csr], o.force);
  const keyObject = await generateKey(spec);
  const csr = await createCsr(await toSigningKey(keyObject), subject);
  await writeFileAtomic(paths.key, encryptPrivateKey(keyObject, o.passphrase), { mode: PRIVATE_MODE, replace: o.force });
  await writeFileAtomic(paths.csr, csr.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: o.force });
  const written: Written[] = [
    { path: paths.key, what: 'issuing CA private key, encrypted, mode 0600' },
    { path: paths.csr, what: 'request: carry it to the offline root for "wardcert-ca root sign"' },
  ];
  return { written };
}

export async function signIntermediateRequest(o: {
  rootDir: string;
  rootPassphrase: string;
  csrPem: string;
  out: string;
  days: number;
  constraints: ConstraintSet;
  crlUrl?: string | undefined;
  force: boolean;
}) {
  const request = await checkCsr(o.csrPem);
  caKeyAlgorithm(request.keySpec.name); // an issuing CA key must be on the strong list, never legacy
  await assertWritable([o.out], o.force);
  const root = await openRoot(o.rootDir, o.rootPassphrase);
  const cert = await signIntermediate(request, root, { days: o.days, constraints: o.constraints, crlUrl: o.crlUrl });
  await writeFileAtomic(o.out, cert.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: o.force });
  return { cert, written: [{ path: o.out, what: 'issuing CA certificate' }] as Written[] };
}

export async function installIntermediate(o: { data: string; certPem: string; rootPem: string; rootSource: string; force: boolean }) {
  const paths = caLayout(o.data);
  if (o.rootPem.includes('PRIVATE KEY')) {
    throw new CaSetupError(`${o.rootSource} contains a private key: give the root certificate only; the root key stays offline`);
  }
  const cert = new x509.X509Certificate(o.certPem);
  const root = new x509.X509Certificate(o.rootPem);
  if (root.subject !== root.issuer) throw new CaSetupError(`${o.rootSource} is not a self-signed root certificate`);
  await assertIssuedBy(root, root);
  await assertIssuedBy(cert, root);
  const request = new x509.Pkcs10CertificateRequest(await readFile(paths.csr, 'utf8'));
  if (!Buffer.from(request.publicKey.rawData).equals(Buffer.from(cert.publicKey.rawData))) {
    throw new CaSetupError(`the certificate was not made from ${paths.csr}: its public key differs`);
  }
  await assertWritable([paths.cert, paths.root], o.force);
  await writeFileAtomic(paths.root, root.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: o.force });
  await writeFileAtomic(paths.cert, cert.toString('pem') + '\n', { mode: PUBLIC_MODE, replace: o.force });
  const written: Written[] = [
    { path: paths.root, what: 'root certificate, the trust anchor devices receive' },
    { path: paths.cert, what: 'issuing CA certificate' },
  ];
  return { cert, written };
}
