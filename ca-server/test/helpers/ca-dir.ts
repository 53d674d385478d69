import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { initRoot, installIntermediate, requestIntermediate, signIntermediateRequest } from '../../src/ca/ceremony.js';
import { caLayout, rootLayout } from '../../src/pki/layout.js';

export const FIXTURE_PASSPHRASE = 'fixture passphrase, long enough';

/**
 * Runs the real key ceremony into `dir`: a root (whose key is then removed, as it goes offline)
 * and an issuing CA (P-256 unless `algorithm` names another) constrained to hospital.test and
 * 127.0.0.0/8, encrypted with FIXTURE_PASSPHRASE.
 */
export async function makeCaDataDir(dir: string, subject = 'CN=Fixture Device CA', algorithm = 'ecdsa-p256'): Promise<void> {
  const PASS = FIXTURE_PASSPHRASE;
  const rootDir = join(dir, 'root');
  await initRoot({ dir: rootDir, subject: 'CN=Fixture Root', algorithm: 'ecdsa-p256', years: 2, passphrase: PASS, force: false });
  await requestIntermediate({ data: dir, subject, algorithm, passphrase: PASS, force: false });
  const signed = join(dir, 'int.pem');
  await signIntermediateRequest({
    rootDir, rootPassphrase: PASS, csrPem: await readFile(caLayout(dir).csr, 'utf8'), out: signed, days: 300,
    constraints: { permitDns: ['hospital.test'], permitIp: ['127.0.0.0/8'], excludeDns: [], excludeIp: [] }, force: false,
  });
  await installIntermediate({ data: dir, certPem: await readFile(signed, 'utf8'), rootPem: await readFile(rootLayout(rootDir).cert, 'utf8'), rootSource: 'root', force: false });
  await rm(rootLayout(rootDir).key); // the root goes offline, as it should
}
