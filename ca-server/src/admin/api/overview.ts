import type Koa from 'koa';
import type { AdminContext } from '../context.js';
import { computeOverview } from '../overview.js';

export async function overviewApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  ctx.body = await computeOverview(admin.store, admin.now());
}
