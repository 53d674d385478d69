import { join } from 'node:path';

/** Where the offline root keeps its files. */
export function rootLayout(dir: string) {
  return {
    key: join(dir, 'root.key.pem'),
    cert: join(dir, 'root.crt.pem'),
    /** CRL number and the certificates this root has revoked, so each new CRL keeps the old entries. */
    crlState: join(dir, 'crl-state.json'),
  };
}

/** Where the online issuing CA keeps its files inside the data directory. */
export function caLayout(dataDir: string) {
  const dir = join(dataDir, 'ca');
  return {
    dir,
    key: join(dir, 'intermediate.key.pem'),
    csr: join(dir, 'intermediate.csr.pem'),
    cert: join(dir, 'intermediate.crt.pem'),
    root: join(dir, 'root.crt.pem'),
  };
}
