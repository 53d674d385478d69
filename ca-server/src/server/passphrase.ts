import { readFile } from 'node:fs/promises';
import { MIN_PASSPHRASE_LENGTH } from '../cli/passphrase.js';

/** A server never prompts: its issuing-key passphrase comes from a file or the environment. */
export async function serverPassphrase(file: string | undefined): Promise<string> {
  const text = file
    ? await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`cannot read the passphrase file ${file}: ${err.code ?? err.message}`);
      })
    : process.env.WARDCERT_CA_PASSPHRASE ?? '';
  const value = text.split(/\r?\n/)[0] ?? '';
  if (!value) throw new Error('no issuing CA passphrase: set passphraseFile in the config or WARDCERT_CA_PASSPHRASE');
  if (value.length < MIN_PASSPHRASE_LENGTH) throw new Error(`the issuing CA passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  return value;
}
