/** The admin API's errors, as RFC 7807 problem documents (application/problem+json). */
export type AdminProblemType = 'malformed' | 'unauthenticated' | 'forbidden' | 'csrf' | 'notFound' | 'conflict' | 'tooLarge' | 'locked' | 'internal';

const STATUS: Record<AdminProblemType, number> = {
  malformed: 400,
  unauthenticated: 401,
  forbidden: 403,
  csrf: 403,
  notFound: 404,
  conflict: 409,
  tooLarge: 413,
  locked: 429,
  internal: 500,
};

const TITLE: Record<AdminProblemType, string> = {
  malformed: 'Bad request',
  unauthenticated: 'Sign in first',
  forbidden: 'Not allowed for your role',
  csrf: 'Request refused (cross-site request check)',
  notFound: 'Not found',
  conflict: 'Conflict',
  tooLarge: 'Request too large',
  locked: 'Too many attempts',
  internal: 'Internal error',
};

export const ADMIN_PROBLEM_PREFIX = 'urn:wardcert:admin:problem:';

export interface AdminProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
}

export class AdminProblem extends Error {
  override readonly name = 'AdminProblem';
  readonly status: number;

  constructor(
    readonly type: AdminProblemType,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = STATUS[type];
  }

  get title(): string {
    return TITLE[this.type];
  }

  document(): AdminProblemDocument {
    return { type: ADMIN_PROBLEM_PREFIX + this.type, title: this.title, status: this.status, detail: this.message };
  }
}
