import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readFile } from 'node:fs/promises';
import { decryptPrivateKey, spkiOf, toSigningKey, type SigningKey } from './keys.js';
import { caLayout } from './layout.js';
import { cryptoFor } from './crypto.js';
import { classifyPublicKey } from './algorithms.js';
import { readNameConstraints, type ConstraintSet } from './name-constraints.js';
import { assertRootKeyOffline } from './root-key-guard.js';

/** The online issuing CA: its certificate, its key, the root above it and the constraints it carries. */
export interface IssuingCa {
  readonly cert: x509.X509Certificate;
  readonly root: x509.X509Certificate;
  readonly key: SigningKey;
  readonly constraints: ConstraintSet;
  /** Hex SHA-1 SKI of the issuing CA: the AKI of everything it signs (ARI certIDs use it). */
  readonly keyId: string;
}

export class CaSetupError extends Error {
  override readonly name = 'CaSetupError';
}

export interface LoadCaOptions {
  dataDir: string;
  passphrase: string;
  /** Further directories the server can read (its config's folder): searched for the root key too. */
  searchDirs?: string[];
  /**
   * Only quickstart sets this: its demo root lives beside the data for convenience. Anything else
   * that finds a readable root key refuses to run.
   */
  allowReachableRootKey?: boolean;
}

export async function loadIssuingCa(opts: LoadCaOptions): Promise<IssuingCa> {
  const paths = caLayout(opts.dataDir);
  const [keyPem, certPem, rootPem] = await Promise.all(
    [paths.key, paths.cert, paths.root].map((p) =>
      readFile(p, 'utf8').catch(() => {
        throw new CaSetupError(`${p} is missing: run "wardcert-ca intermediate request" and "intermediate install" first`);
      }),
    ),
  );
  const cert = new x509.X509Certificate(certPem!);
  const root = new x509.X509Certificate(rootPem!);
  if (!opts.allowReachableRootKey) {
    await assertRootKeyOffline([opts.dataDir, ...(opts.searchDirs ?? [])], root, [opts.passphrase]);
  }
  const keyObject = decryptPrivateKey(keyPem!, opts.passphrase, paths.key);
  if (!Buffer.from(spkiOf(keyObject)).equals(Buffer.from(cert.publicKey.rawData))) {
    throw new CaSetupError(`${paths.key} does not belong to the certificate in ${paths.cert}`);
  }
  await assertIssuedBy(cert, root);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new CaSetupError(`${paths.cert} has no subject key identifier`);
  return { cert, root, key: await toSigningKey(keyObject), constraints: readNameConstraints(cert), keyId: ski.keyId };
}

/** Checks that `cert` is a CA certificate whose signature the issuer's key verifies. */
export async function assertIssuedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<void> {
  const spec = classifyPublicKey(new Uint8Array(issuer.publicKey.rawData));
  const ok = await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }, cryptoFor(spec)).catch(() => false);
  if (!ok) throw new CaSetupError(`"${cert.subject}" is not signed by "${issuer.subject}"`);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new CaSetupError(`"${cert.subject}" is not a CA certificate`);
}
