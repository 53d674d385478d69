import { readFile } from 'node:fs/promises';
import { MIN_PASSPHRASE_LENGTH } from '../cli/passphrase.js';

/** A server never prompts: its issuing-key passphrase comes from a file or the environment. */
export async function serverPassphrase(file: string | undefined): Promise<string> {
  const value = file ? (await readFile(file, 'utf8')).split(/\r?\n/)[0] ?? '' : process.env.WARDCERT_CA_PASSPHRASE ?? '';
  if (!value) throw new Error('no issuing CA passphrase: set passphraseFile in the config or WARDCERT_CA_PASSPHRASE');
  if (value.length < MIN_PASSPHRASE_LENGTH) throw new Error(`the issuing CA passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  return value;
}
