/** An ACME problem document the server answered with (RFC 7807, RFC 8555 s6.7). */
export class AcmeError extends Error {
  override readonly name = 'AcmeError';
  constructor(
    readonly status: number,
    readonly type: string,
    detail: string,
    readonly retryAfterMs?: number,
    readonly subproblems?: unknown[],
  ) {
    super(`${type.replace('urn:ietf:params:acme:error:', '')}: ${detail}`);
  }

  is(shortType: string): boolean {
    return this.type === `urn:ietf:params:acme:error:${shortType}`;
  }
}
