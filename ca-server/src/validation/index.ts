import { isIP } from 'node:net';
import { validateDns01 } from './dns01.js';
import { validateHttp01 } from './http01.js';
import { validateTlsAlpn01 } from './tls-alpn01.js';
import {
  fail,
  ValidationFailure,
  type ChallengeKind,
  type Identifier,
  type ValidationContext,
  type ValidationOptions,
  type ValidationResult,
} from './types.js';

export { ACME_IDENTIFIER_OID } from './challenge-certificate.js';
export { dns01TxtValue, keyAuthorizationDigest } from './key-authorization.js';
export { MAX_BODY_BYTES } from './http-get.js';
export { MAX_REDIRECTS } from './redirect.js';
export { createResolver, DnsLookupError, type DnsFailure, type NameResolver } from './resolver.js';
export { ACME_TLS_1 } from './tls-alpn01.js';
export type { ChallengeKind, Identifier, ValidationOptions, ValidationProblem, ValidationResult } from './types.js';

// Tokens are base64url (RFC 8555 s8.1); anything else must not reach a URL path.
const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Checks one challenge against the device, within opts.timeoutMs in all. Network trouble of any kind
 * comes back as a problem, never as an exception.
 */
export async function validateChallenge(
  kind: ChallengeKind,
  identifier: Identifier,
  token: string,
  keyAuthorization: string,
  opts: ValidationOptions,
): Promise<ValidationResult> {
  const ctx: ValidationContext = { ...opts, signal: AbortSignal.timeout(opts.timeoutMs) };
  try {
    checkInput(kind, identifier, token);
    const addressUsed =
      kind === 'http-01'
        ? await validateHttp01(identifier, token, keyAuthorization, ctx)
        : kind === 'tls-alpn-01'
          ? await validateTlsAlpn01(identifier, keyAuthorization, ctx)
          : await validateDns01(identifier, keyAuthorization, ctx);
    return addressUsed === undefined ? { ok: true, validatedAt: new Date() } : { ok: true, validatedAt: new Date(), addressUsed };
  } catch (err) {
    if (err instanceof ValidationFailure) return { ok: false, problem: err.problem };
    throw err;
  }
}

function checkInput(kind: ChallengeKind, identifier: Identifier, token: string): void {
  if (!TOKEN.test(token)) fail('malformed', 'the challenge token is not base64url');
  if (identifier.type === 'ip' && isIP(identifier.value) === 0) fail('malformed', `${identifier.value} is not an IP address`);
  if (kind !== 'dns-01' && identifier.value.startsWith('*.')) {
    fail('malformed', `${kind} cannot validate a wildcard name; only dns-01 can (RFC 8555 s7.1.3)`);
  }
}
