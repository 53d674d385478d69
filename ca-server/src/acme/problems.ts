/** RFC 8555 s6.7 error types (plus RFC 9773 alreadyReplaced and the profiles draft's invalidProfile). */
export type ProblemType =
  | 'accountDoesNotExist'
  | 'alreadyReplaced'
  | 'alreadyRevoked'
  | 'badCSR'
  | 'badNonce'
  | 'badPublicKey'
  | 'badRevocationReason'
  | 'badSignatureAlgorithm'
  | 'compound'
  | 'externalAccountRequired'
  | 'invalidContact'
  | 'invalidProfile'
  | 'malformed'
  | 'orderNotReady'
  | 'rateLimited'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'unauthorized'
  | 'unsupportedContact'
  | 'unsupportedIdentifier';

const STATUS: Partial<Record<ProblemType, number>> = {
  unauthorized: 403,
  orderNotReady: 403,
  externalAccountRequired: 403,
  alreadyReplaced: 409,
  rateLimited: 429,
  serverInternal: 500,
};

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

export interface Subproblem {
  type: string;
  detail: string;
  identifier: { type: string; value: string };
}

export interface ProblemDocument {
  type: string;
  detail: string;
  status: number;
  subproblems?: Subproblem[];
  algorithms?: string[];
}

/** A request that fails with an RFC 7807 problem document of an RFC 8555 type. */
export class AcmeProblem extends Error {
  override readonly name = 'AcmeProblem';
  readonly status: number;
  constructor(
    readonly type: ProblemType,
    detail: string,
    readonly extra: { status?: number; subproblems?: Subproblem[]; algorithms?: string[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.status = extra.status ?? STATUS[type] ?? 400;
  }

  document(): ProblemDocument {
    return {
      type: ACME_ERROR_PREFIX + this.type,
      detail: this.message,
      status: this.status,
      ...(this.extra.subproblems ? { subproblems: this.extra.subproblems } : {}),
      ...(this.extra.algorithms ? { algorithms: this.extra.algorithms } : {}),
    };
  }
}

export const notFound = (what: string) => new AcmeProblem('malformed', `${what} does not exist`, { status: 404 });
