import { exportJWK, importPKCS8, generateKeyPair, exportPKCS8 } from 'jose';
import { readFile } from 'node:fs/promises';
import { exists, PRIVATE_MODE, writeFileAtomic } from '@wardcert/common';
import { newAccount, type Eab } from './api.js';
import { AcmeError } from './errors.js';
import type { AccountKey, AcmeTransport } from './transport.js';

/** The account key lives in the state directory (0600); it is made once and kept. */
export async function loadOrCreateAccountKey(path: string): Promise<AccountKey> {
  let pem: string;
  if (await exists(path)) {
    pem = await readFile(path, 'utf8');
  } else {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    pem = await exportPKCS8(privateKey);
    await writeFileAtomic(path, pem, { mode: PRIVATE_MODE, replace: false });
  }
  const privateKey = (await importPKCS8(pem, 'ES256', { extractable: true })) as CryptoKey;
  const { d: _private, ...jwk } = await exportJWK(privateKey);
  return { privateKey, jwk, alg: 'ES256' };
}

/**
 * Finds this key's account, or registers it with the EAB credential (used once). The account URL
 * is remembered so later runs sign with "kid" at once.
 */
export async function ensureAccount(t: AcmeTransport, o: { accountFile: string; eab?: Eab | undefined; contact: string[] }): Promise<string> {
  if (await exists(o.accountFile)) {
    t.kid = (JSON.parse(await readFile(o.accountFile, 'utf8')) as { url: string }).url;
    return t.kid;
  }
  try {
    await newAccount(t, { onlyReturnExisting: true });
  } catch (err) {
    if (!(err instanceof AcmeError && err.is('accountDoesNotExist'))) throw err;
    await newAccount(t, { contact: o.contact, ...(o.eab ? { eab: o.eab } : {}) });
  }
  if (!t.kid) throw new Error('the CA gave no account URL');
  await writeFileAtomic(o.accountFile, JSON.stringify({ url: t.kid }) + '\n', { mode: PRIVATE_MODE, replace: true });
  return t.kid;
}
