import { peerAddress } from '../../server/peer-address.js';
import type Koa from 'koa';
import { addDevice, listDevices } from '../../policy/devices.js';
import { InputError } from '../../policy/service.js';
import { DeviceNameTakenError } from '../../store/index.js';
import { bodyOf } from '../body.js';
import { certificateJson } from '../certificate-json.js';
import type { AdminContext } from '../context.js';
import { loadDeviceView } from '../device-view.js';
import { AdminProblem } from '../problems.js';
import { signedIn } from '../signed-in.js';
import { z } from 'zod';
import { summaryOf } from './certificates.js';

export async function deviceListApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  ctx.body = { items: await listDevices(admin) };
}

export async function deviceApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const view = await loadDeviceView(admin, ctx.params.id ?? '');
  const now = admin.now();
  ctx.body = { device: view.device, certificates: view.certificates.map((c) => certificateJson(summaryOf(c), now)), agentReport: view.agentReport };
}

/** Everything but the CSRF field goes to the inventory service, which checks it field by field. */
const withoutCsrf = z.object({ _csrf: z.unknown().optional() }).loose().transform(({ _csrf, ...rest }) => rest);

/** Creates a device and its one-time EAB credential; the response is the only time the HMAC key is shown. */
export async function createDeviceApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const { user } = signedIn(ctx);
  try {
    const created = await addDevice(admin, bodyOf(ctx, withoutCsrf), { actor: { kind: 'user', id: user.id, name: user.username }, source: peerAddress(ctx) ?? 'unknown' });
    ctx.status = 201;
    ctx.body = created;
  } catch (err) {
    if (err instanceof InputError) throw new AdminProblem('malformed', err.message);
    if (err instanceof DeviceNameTakenError) throw new AdminProblem('conflict', err.message);
    throw err;
  }
}
