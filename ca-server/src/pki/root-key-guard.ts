import { createPrivateKey, createPublicKey } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type * as x509 from '@peculiar/x509';

/** The online server must never be able to read the offline root's private key. */
export class RootKeyReachableError extends Error {
  override readonly name = 'RootKeyReachableError';
}

const MAX_DEPTH = 4;
const MAX_FILE_BYTES = 1024 * 1024;
const SKIP_DIRS = new Set(['node_modules', '.git']);
/**
 * Database files are never opened: closing any descriptor of a SQLite file drops every POSIX lock
 * this process holds on it, and another process would then delete the WAL under a live connection.
 */
const SKIP_FILES = /\.(db|sqlite3?)(-wal|-shm|-journal)?$/;

/**
 * Searches the given directories for a file that holds the root's private key: a file named
 * root.key.pem, an unencrypted key whose public half is the root's, or an encrypted one that opens with
 * one of the passphrases at hand (operators reuse passphrases) and matches.
 */
export async function findReachableRootKeys(
  dirs: readonly string[],
  rootCert: x509.X509Certificate,
  passphrases: readonly string[],
): Promise<string[]> {
  const rootSpki = Buffer.from(rootCert.publicKey.rawData);
  const found: string[] = [];
  for (const dir of dirs) {
    for await (const file of walk(dir, 0)) {
      if (await holdsRootKey(file, rootSpki, passphrases)) found.push(file);
    }
  }
  return [...new Set(found)];
}

export async function assertRootKeyOffline(
  dirs: readonly string[],
  rootCert: x509.X509Certificate,
  passphrases: readonly string[],
): Promise<void> {
  const found = await findReachableRootKeys(dirs, rootCert, passphrases);
  if (found.length) {
    throw new RootKeyReachableError(
      `refusing to run: the offline root's private key is readable at ${found.join(', ')}. ` +
        'A root key belongs on the offline machine or removable media; move it there and start again.',
    );
  }
}

async function* walk(dir: string, depth: number): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // an unreadable directory is, for this purpose, unreachable
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth < MAX_DEPTH && !SKIP_DIRS.has(entry.name)) yield* walk(path, depth + 1);
    else if (entry.isFile() && !SKIP_FILES.test(entry.name)) yield path;
  }
}

async function holdsRootKey(path: string, rootSpki: Buffer, passphrases: readonly string[]): Promise<boolean> {
  const text = await readHead(path);
  if (text === undefined || !text.includes('PRIVATE KEY-----')) return false;
  if (basename(path) === 'root.key.pem') return true;
  const candidates = text.includes('ENCRYPTED PRIVATE KEY') ? passphrases : [undefined];
  for (const passphrase of candidates) {
    try {
      const key = createPrivateKey({ key: text, format: 'pem', ...(passphrase ? { passphrase } : {}) });
      if (createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(rootSpki)) return true;
    } catch {
      // not this passphrase, or not a key we can read: not a reachable root key
    }
  }
  return false;
}

async function readHead(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_FILE_BYTES) return undefined;
      return (await handle.readFile()).toString('latin1');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
