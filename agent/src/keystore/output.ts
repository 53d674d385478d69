import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_MODE, PUBLIC_MODE, type FileToWrite } from '@wardcert/common';
import { splitPem } from './pem.js';
import { makePkcs12 } from './pkcs12.js';
import type { CertificatePair } from './state.js';

const pem = (parts: string[]) => parts.map((p) => `${p.trim()}\n`).join('');
const sameCertificate = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/**
 * trust.pem: the hospital root, the issuing chain that came with the certificate, and the issuing
 * CA the CA publishes now when that is another one (a rotation under way), each once.
 */
export function trustFile(dir: string, pair: CertificatePair, rootPem: string, published: string | undefined): FileToWrite {
  const [, ...chain] = splitPem(pair.chain);
  const all = [...splitPem(rootPem), ...chain, ...(published ? splitPem(published) : [])];
  const unique = all.filter((c, i) => all.findIndex((d) => sameCertificate(c, d)) === i);
  return { path: join(dir, 'trust.pem'), data: pem(unique), mode: PUBLIC_MODE };
}

/**
 * The files device software reads, to be replaced together (writeFilesAtomic: all or none, so a
 * full disk leaves the old set whole): cert.pem (leaf), key.pem (0600), chain.pem (issuing CA),
 * fullchain.pem (leaf and chain), trust.pem (see trustFile), and bundle.p12 (0600) when configured.
 */
export async function outputFiles(
  dir: string,
  pair: CertificatePair,
  rootFile: string | undefined,
  o: { p12?: { passwordFile: string } | undefined; publishedIssuer?: string | undefined } = {},
): Promise<FileToWrite[]> {
  const [leaf, ...chain] = splitPem(pair.chain);
  if (!leaf) throw new Error('the certificate chain holds no certificate');
  const root = rootFile ? await readFile(rootFile, 'utf8') : '';
  const files: FileToWrite[] = [
    { path: join(dir, 'key.pem'), data: pair.key, mode: PRIVATE_MODE },
    { path: join(dir, 'cert.pem'), data: pem([leaf]), mode: PUBLIC_MODE },
    { path: join(dir, 'chain.pem'), data: pem(chain), mode: PUBLIC_MODE },
    { path: join(dir, 'fullchain.pem'), data: pem([leaf, ...chain]), mode: PUBLIC_MODE },
    trustFile(dir, pair, root, o.publishedIssuer),
  ];
  if (o.p12) {
    const password = (await readFile(o.p12.passwordFile, 'utf8')).split(/\r?\n/)[0] ?? '';
    if (password.length < 8) throw new Error(`the PKCS#12 password in ${o.p12.passwordFile} needs at least 8 characters`);
    files.push({ path: join(dir, 'bundle.p12'), data: await makePkcs12(pair.key, pair.chain, password), mode: PRIVATE_MODE });
  }
  return files;
}
