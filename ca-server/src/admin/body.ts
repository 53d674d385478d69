import type Koa from 'koa';
import type { z } from 'zod';
import { readBody } from '../acme/body.js';
import { AdminProblem } from './problems.js';

/** Forms and API bodies are small; anything larger is refused before it is buffered. */
const MAX_ADMIN_BODY = 16 * 1024;

/** Reads a form post (urlencoded) or an API call's JSON, once, before the CSRF check needs it. */
export async function readRequestBody(ctx: Koa.Context): Promise<Record<string, unknown>> {
  const raw = await readBody(ctx.req, MAX_ADMIN_BODY).catch(() => {
    throw new AdminProblem('tooLarge', `the request body exceeds ${MAX_ADMIN_BODY} bytes`);
  });
  if (raw.length === 0) return {};
  if (ctx.is('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  if (!ctx.is('application/json')) throw new AdminProblem('malformed', 'send application/json or application/x-www-form-urlencoded');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AdminProblem('malformed', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AdminProblem('malformed', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function check<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AdminProblem('malformed', `${issue.path.join('.') || what}: ${issue.message}`);
  }
  return parsed.data;
}

/** The body that the middleware read, checked against the handler's schema. */
export const bodyOf = <T extends z.ZodType>(ctx: Koa.Context, schema: T): z.infer<T> => check(schema, ctx.state.body ?? {}, 'body');

/** Query parameters checked against a schema; a repeated parameter keeps its first value. */
export function queryOf<T extends z.ZodType>(ctx: Koa.Context, schema: T): z.infer<T> {
  const params = new URLSearchParams(ctx.querystring);
  return check(schema, Object.fromEntries([...new Set(params.keys())].map((k) => [k, params.get(k)])), 'query');
}
