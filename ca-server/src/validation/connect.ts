import { timeoutDetail } from './deadline.js';
import { ValidationFailure, type ValidationContext } from './types.js';

/** Names the problem behind a failed connection, request or handshake with `where`. */
export function networkFailure(err: unknown, where: string, ctx: ValidationContext): ValidationFailure {
  if (err instanceof ValidationFailure) return err;
  if (ctx.signal.aborted) return new ValidationFailure('connection', timeoutDetail(where, ctx));
  const { code = '', message } = err as NodeJS.ErrnoException;
  if (/^(ERR_SSL_|ERR_TLS_|EPROTO$)/.test(code)) return new ValidationFailure('tls', `TLS with ${where} failed: ${message}`);
  if (code.startsWith('HPE_')) {
    return new ValidationFailure('incorrectResponse', `${where} sent a malformed HTTP response: ${message}`);
  }
  return new ValidationFailure('connection', `cannot reach ${where}: ${message}`);
}

/**
 * Tries the addresses in order and moves on only when one cannot be reached at all, so a stale
 * AAAA record falls back to IPv4; any answer, even a wrong one, decides.
 */
export async function firstReachable<T>(
  addresses: string[],
  ctx: ValidationContext,
  attempt: (address: string) => Promise<T>,
): Promise<{ value: T; address: string }> {
  let lastFailure: unknown;
  for (const address of addresses) {
    try {
      return { value: await attempt(address), address };
    } catch (err) {
      if (!(err instanceof ValidationFailure) || err.kind !== 'connection' || ctx.signal.aborted) throw err;
      lastFailure = err;
    }
  }
  throw lastFailure;
}
