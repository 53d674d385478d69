import type Koa from 'koa';
import { queryOf } from './body.js';
import { certificateQuerySchema, toPageQuery } from './certificate-query.js';
import type { AdminContext } from './context.js';
import type { Html } from './html.js';
import { namesOfDevices } from './device-names.js';
import { computeOverview } from './overview.js';
import { CERTIFICATE_OPERATORS } from './roles.js';
import { signedIn } from './signed-in.js';
import { auditQuerySchema, loadAuditPage } from './audit-view.js';
import { auditBody } from './views/audit.js';
import { certificatesBody } from './views/certificates.js';
import { loadDeviceView } from './device-view.js';
import { deviceBody } from './views/device.js';
import { devicesBody } from './views/devices.js';
import { layout } from './views/layout.js';
import { overviewBody } from './views/overview.js';

function render(ctx: Koa.Context, title: string, active: string, body: Html): void {
  const { user, session } = signedIn(ctx);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = layout(title, { user, csrfToken: session.csrfToken, active }, body).toString();
}

const canOperate = (ctx: Koa.Context) => CERTIFICATE_OPERATORS.includes(signedIn(ctx).user.role);

export async function overviewPage(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  render(ctx, 'Overview', 'Overview', overviewBody(await computeOverview(admin.store, admin.now())));
}

export async function certificatesPage(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const params = queryOf(ctx, certificateQuerySchema);
  const now = admin.now();
  const { total, items } = await admin.store.certificateSearch.page(toPageQuery(params), now);
  const deviceNames = await namesOfDevices(admin.store, items.map((c) => c.deviceId));
  render(ctx, 'Certificates', 'Certificates', certificatesBody({ params, total, items, now, canOperate: canOperate(ctx), profiles: admin.profiles, deviceNames }));
}

export async function devicesPage(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  render(ctx, 'Devices', 'Devices', devicesBody({ devices: await admin.store.devices.list(), canOperate: canOperate(ctx) }));
}

export async function devicePage(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const view = await loadDeviceView(admin, ctx.params.id ?? '');
  render(ctx, `Device ${view.device.name}`, 'Devices', deviceBody(view, canOperate(ctx), admin.now()));
}

export async function auditPage(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const params = queryOf(ctx, auditQuerySchema);
  render(ctx, 'Audit trail', 'Audit trail', auditBody(params, await loadAuditPage(admin, params)));
}
