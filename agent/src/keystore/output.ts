import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from '@wardcert/common';
import { splitPem } from './pem.js';
import { makePkcs12 } from './pkcs12.js';
import type { CertificatePair } from './state.js';

/**
 * Writes what device software reads, each file replaced atomically (the old one stays whole until
 * the new one is complete): cert.pem (leaf), key.pem (0600), chain.pem (issuing CA), fullchain.pem
 * (leaf and chain), trust.pem (the hospital root and the current issuing chain, so an intermediate
 * rotation reaches the device with its next certificate), and bundle.p12 (0600) when configured.
 */
export async function writeOutputs(dir: string, pair: CertificatePair, rootFile: string | undefined, p12?: { passwordFile: string }): Promise<void> {
  const [leaf, ...chain] = splitPem(pair.chain);
  if (!leaf) throw new Error('the certificate chain holds no certificate');
  const root = rootFile ? await readFile(rootFile, 'utf8') : '';
  const join2 = (parts: string[]) => parts.map((p) => `${p.trim()}\n`).join('');
  await writeFileAtomic(join(dir, 'key.pem'), pair.key, { mode: PRIVATE_MODE, replace: true });
  await writeFileAtomic(join(dir, 'cert.pem'), join2([leaf]), { mode: PUBLIC_MODE, replace: true });
  await writeFileAtomic(join(dir, 'chain.pem'), join2(chain), { mode: PUBLIC_MODE, replace: true });
  await writeFileAtomic(join(dir, 'fullchain.pem'), join2([leaf, ...chain]), { mode: PUBLIC_MODE, replace: true });
  await writeFileAtomic(join(dir, 'trust.pem'), join2([...splitPem(root), ...chain]), { mode: PUBLIC_MODE, replace: true });
  if (p12) {
    const password = (await readFile(p12.passwordFile, 'utf8')).split(/\r?\n/)[0] ?? '';
    if (password.length < 8) throw new Error(`the PKCS#12 password in ${p12.passwordFile} needs at least 8 characters`);
    await writeFileAtomic(join(dir, 'bundle.p12'), await makePkcs12(pair.key, pair.chain, password), { mode: PRIVATE_MODE, replace: true });
  }
}
