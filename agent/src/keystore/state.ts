import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, PRIVATE_MODE, PUBLIC_MODE, writeFilesAtomic, type FileToWrite } from '@wardcert/common';

/**
 * The state directory: the account key and URL, the current and previous certificate with its key
 * (the previous pair is kept for rollback when a listener fails with the new one), and an archive
 * of every certificate installed.
 */
export function stateLayout(dir: string) {
  return {
    accountKey: join(dir, 'account.key.pem'),
    account: join(dir, 'account.json'),
    current: { cert: join(dir, 'current', 'fullchain.pem'), key: join(dir, 'current', 'key.pem') },
    previous: { cert: join(dir, 'previous', 'fullchain.pem'), key: join(dir, 'previous', 'key.pem') },
    /** Every certificate the agent ever installed, by serial (certificates only, no keys): it never deletes one. */
    archive: (serial: string) => join(dir, 'archive', `${serial}.pem`),
    status: join(dir, 'status.json'),
    socket: join(dir, 'agent.sock'),
  };
}

export interface CertificatePair {
  /** Leaf first, then the issuing chain, PEM. */
  chain: string;
  key: string;
}

export async function readPair(paths: { cert: string; key: string }): Promise<CertificatePair | undefined> {
  if (!(await exists(paths.cert)) || !(await exists(paths.key))) return undefined;
  const [chain, key] = await Promise.all([readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8')]);
  return { chain, key };
}

/** Key before certificate: a reader never finds a certificate whose key is not there yet. */
export function pairFiles(paths: { cert: string; key: string }, pair: CertificatePair): FileToWrite[] {
  return [
    { path: paths.key, data: pair.key, mode: PRIVATE_MODE },
    { path: paths.cert, data: pair.chain, mode: PUBLIC_MODE },
  ];
}

export function writePair(paths: { cert: string; key: string }, pair: CertificatePair): Promise<void> {
  return writeFilesAtomic(pairFiles(paths, pair));
}
