import { readFile } from 'node:fs/promises';

/** The /metrics bearer token from the config: given inline, or the first line of a file. */
export async function metricsBearerToken(m: { bearerToken?: string | undefined; bearerTokenFile?: string | undefined }): Promise<string | undefined> {
  if (m.bearerToken !== undefined) return m.bearerToken;
  if (m.bearerTokenFile === undefined) return undefined;
  const text = await readFile(m.bearerTokenFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`metrics.bearerTokenFile: cannot read ${m.bearerTokenFile}: ${err.code ?? err.message}`);
  });
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token.length < 16 || /\s/.test(token)) throw new Error(`metrics.bearerTokenFile: ${m.bearerTokenFile} must hold a token of at least 16 characters without spaces on its first line`);
  return token;
}
