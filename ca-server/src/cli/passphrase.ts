import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export const MIN_PASSPHRASE_LENGTH = 16;

export class PassphraseError extends Error {
  override readonly name = 'PassphraseError';
}

export interface PassphraseSource {
  /** Environment variable that may hold it, e.g. WARDCERT_ROOT_PASSPHRASE. */
  envVar: string;
  /** --passphrase-file: the first line of the file. */
  file?: string | undefined;
  /** Shown at the terminal prompt. */
  label: string;
  /** Ask twice on a terminal when a new key is being made. */
  confirm?: boolean;
}

/** Resolves a passphrase from a file, the environment, or a terminal prompt, in that order. */
export async function readPassphrase(source: PassphraseSource): Promise<string> {
  const value = await fromFileOrEnv(source);
  if (value.length < MIN_PASSPHRASE_LENGTH) {
    throw new PassphraseError(
      `the ${source.label} passphrase has ${value.length} characters; at least ${MIN_PASSPHRASE_LENGTH} are required`,
    );
  }
  return value;
}

async function fromFileOrEnv(source: PassphraseSource): Promise<string> {
  if (source.file) {
    const text = await readFile(source.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new PassphraseError(`cannot read passphrase file ${source.file}: ${err.code ?? err.message}`);
    });
    return text.split(/\r?\n/)[0] ?? '';
  }
  const env = process.env[source.envVar];
  if (env !== undefined && env !== '') return env;
  if (!process.stdin.isTTY) {
    throw new PassphraseError(
      `no ${source.label} passphrase: set ${source.envVar}, pass --passphrase-file FILE, or run on a terminal`,
    );
  }
  const first = await prompt(`${source.label} passphrase: `);
  if (source.confirm && (await prompt(`repeat ${source.label} passphrase: `)) !== first) {
    throw new PassphraseError('the two passphrases differ');
  }
  return first;
}

/** Reads one line from the terminal without echoing it. */
function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
