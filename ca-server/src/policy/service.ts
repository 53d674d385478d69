import type { z } from 'zod';
import type { AuditActor, AuditRecorder } from '../audit/event.js';
import type { Store } from '../store/index.js';

/** What the inventory and user services need, from the CLI and the admin API alike. */
export interface ServiceDeps {
  store: Store;
  audit: AuditRecorder;
  now?: () => Date;
}

/** Who acts, and from where (a peer address, or the host name for a CLI command). */
export interface Acting {
  actor: AuditActor;
  source?: string;
}

/** Bad input: the message names the field, for a 400 problem document or a CLI error line. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** The thing named does not exist: a 404 problem document or a CLI error line. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';

  constructor(
    readonly kind: 'device' | 'user',
    readonly ref: string,
  ) {
    super(`no ${kind} "${ref}"`);
  }
}

export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InputError(`${issue.path.join('.') || what}: ${issue.message}`);
  }
  return result.data;
}

export const clock = (deps: { now?: () => Date }): Date => (deps.now ?? (() => new Date()))();
