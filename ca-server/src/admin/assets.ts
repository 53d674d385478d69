import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import type { AdminContext } from './context.js';
import { AdminProblem } from './problems.js';

/** The page's own CSS and JS, served from here: the dashboard fetches nothing from anywhere else. */
const ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../assets/admin');
const TYPES: Record<string, string> = { 'app.css': 'text/css; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8' };
const contents = new Map(Object.keys(TYPES).map((name) => [name, readFileSync(resolve(ASSETS_DIR, name))]));

export async function serveAsset(_admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const name = ctx.params.file ?? '';
  const body = contents.get(name);
  if (!body) throw new AdminProblem('notFound', `no asset ${name.slice(0, 64)}`);
  ctx.type = TYPES[name]!;
  // Assets hold nothing private; a short cache keeps the ward workstation quick.
  ctx.set('Cache-Control', 'private, max-age=300');
  ctx.body = body;
}
