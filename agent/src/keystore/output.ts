import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_MODE, PUBLIC_MODE, type FileToWrite } from '@wardcert/common';
import { splitPem } from './pem.js';
import { makePkcs12 } from './pkcs12.js';
import type { CertificatePair } from './state.js';

/**
 * The files device software reads, to be replaced together (writeFilesAtomic: all or none, so a
 * full disk leaves the old set whole): cert.pem (leaf), key.pem (0600), chain.pem (issuing CA),
 * fullchain.pem (leaf and chain), trust.pem (the hospital root and the current issuing chain, so an
 * intermediate rotation reaches the device with its next certificate), and bundle.p12 (0600) when
 * configured.
 */
export async function outputFiles(dir: string, pair: CertificatePair, rootFile: string | undefined, p12?: { passwordFile: string }): Promise<FileToWrite[]> {
  const [leaf, ...chain] = splitPem(pair.chain);
  if (!leaf) throw new Error('the certificate chain holds no certificate');
  const root = rootFile ? await readFile(rootFile, 'utf8') : '';
  const pem = (parts: string[]) => parts.map((p) => `${p.trim()}\n`).join('');
  const files: FileToWrite[] = [
    { path: join(dir, 'key.pem'), data: pair.key, mode: PRIVATE_MODE },
    { path: join(dir, 'cert.pem'), data: pem([leaf]), mode: PUBLIC_MODE },
    { path: join(dir, 'chain.pem'), data: pem(chain), mode: PUBLIC_MODE },
    { path: join(dir, 'fullchain.pem'), data: pem([leaf, ...chain]), mode: PUBLIC_MODE },
    { path: join(dir, 'trust.pem'), data: pem([...splitPem(root), ...chain]), mode: PUBLIC_MODE },
  ];
  if (p12) {
    const password = (await readFile(p12.passwordFile, 'utf8')).split(/\r?\n/)[0] ?? '';
    if (password.length < 8) throw new Error(`the PKCS#12 password in ${p12.passwordFile} needs at least 8 characters`);
    files.push({ path: join(dir, 'bundle.p12'), data: await makePkcs12(pair.key, pair.chain, password), mode: PRIVATE_MODE });
  }
  return files;
}
