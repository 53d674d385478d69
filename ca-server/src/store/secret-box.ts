import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Seals the secrets the store holds (EAB HMAC keys, TOTP seeds) with AES-256-GCM under a data key
 * that lives in a file of the data directory, never in the database: a database dump, replica or
 * backup alone reveals none of them. The row's own id is the additional data, so a sealed value
 * copied into another row does not open there.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): Promise<string>;
  open(sealed: string, context: string): Promise<string>;
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where the data key lives: beside the issuing CA's files, copied with them to every instance. */
export function dataKeyPath(dataDir: string): string {
  return join(dataDir, 'secrets.key');
}

/** A short, public name for a key, so a value sealed under another instance's key says so. */
function keyId(key: Buffer): string {
  return createHash('sha256').update('wardcert data key id').update(key).digest('hex').slice(0, 16);
}

export function secretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`a data key has ${KEY_BYTES} bytes, not ${key.length}`);
  const id = keyId(key);
  return {
    async seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return [VERSION, id, iv.toString('base64url'), body.toString('base64url')].join('.');
    },
    async open(sealed, context) {
      const [version, sealedId, iv, body] = sealed.split('.');
      if (version !== VERSION || !sealedId || !iv || !body) throw new SecretBoxError('a stored secret is not sealed in a form this version reads');
      if (sealedId !== id) {
        throw new SecretBoxError(`a stored secret is sealed under data key ${sealedId}, but this instance holds ${id}: copy the data directory's secrets.key from the instance that made it`);
      }
      const bytes = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('a stored secret does not open with the data key (altered, or moved to another row)');
      }
    },
  };
}

/** True when a stored value is sealed rather than a plaintext left by an older version. */
export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}.`);
}

/**
 * Reads DATA/secrets.key, or makes it (0600). The key is written to a temporary file and linked
 * into place, which fails when the name exists: two processes starting together never make two
 * keys, and nobody ever reads a half-written one.
 */
export async function loadOrCreateDataKey(dataDir: string): Promise<Buffer> {
  const file = dataKeyPath(dataDir);
  try {
    return decodeKey(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${key.toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return decodeKey(await readFile(file, 'utf8'), file); // another process made it first
  } finally {
    await unlink(temp);
  }
}

function decodeKey(text: string, file: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`${file} does not hold a ${KEY_BYTES}-byte data key`);
  return key;
}

/** The data directory's box, its key read (or made) at the first secret, so a store that holds none touches no file. */
export function dataDirSecretBox(dataDir: string): SecretBox {
  let box: Promise<SecretBox> | undefined;
  const ready = () => (box ??= loadOrCreateDataKey(dataDir).then(secretBox));
  return {
    seal: async (plaintext, context) => (await ready()).seal(plaintext, context),
    open: async (sealed, context) => (await ready()).open(sealed, context),
  };
}

/** For a store opened by URL alone: it can hold secrets only once told where the data key is. */
export function missingSecretBox(): SecretBox {
  const fail = async (): Promise<never> => {
    throw new SecretBoxError('this store keeps secrets sealed with DATA/secrets.key: name the data directory (--data DIR or --config FILE)');
  };
  return { seal: fail, open: fail };
}
