import type Koa from 'koa';
import { auditQuerySchema, loadAuditPage } from '../audit-view.js';
import { queryOf } from '../body.js';
import type { AdminContext } from '../context.js';

export async function auditApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const page = await loadAuditPage(admin, queryOf(ctx, auditQuerySchema));
  ctx.body = { items: page.entries, olderBefore: page.olderBefore ?? null };
}
