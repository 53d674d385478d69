import type { NameResolver } from './resolver.js';

export type Identifier = { type: 'dns' | 'ip'; value: string };

export type ChallengeKind = 'http-01' | 'tls-alpn-01' | 'dns-01';

export type ValidationProblem = { type: string; detail: string };

export type ValidationResult =
  | { ok: true; validatedAt: Date; addressUsed?: string }
  | { ok: false; problem: ValidationProblem };

export interface ValidationOptions {
  resolver: NameResolver;
  http01Port: number;
  tlsAlpn01Port: number;
  /** Bounds the whole validation: every lookup, connection, redirect and read together. */
  timeoutMs: number;
}

/** What each step of one validation needs: the options and the deadline they share. */
export interface ValidationContext extends ValidationOptions {
  signal: AbortSignal;
}

/**
 * The RFC 8555 error types a validation can end with. We keep one rule for the two that overlap:
 * `unauthorized` when the proof is missing or wrong (404, other body, other digest, no or other TXT),
 * `incorrectResponse` when the answer breaks the challenge's rules (size, redirect, ALPN, certificate shape).
 */
export type ProblemKind = 'connection' | 'dns' | 'incorrectResponse' | 'malformed' | 'tls' | 'unauthorized';

/** Carries a problem from deep inside a validator to validateChallenge, which turns it into a result. */
export class ValidationFailure extends Error {
  override readonly name = 'ValidationFailure';
  readonly problem: ValidationProblem;
  constructor(
    readonly kind: ProblemKind,
    detail: string,
  ) {
    super(detail);
    this.problem = { type: `urn:ietf:params:acme:error:${kind}`, detail };
  }
}

export function fail(kind: ProblemKind, detail: string): never {
  throw new ValidationFailure(kind, detail);
}
