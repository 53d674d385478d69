import { showDevice, type DeviceDetails } from '../policy/devices.js';
import { NotFoundError } from '../policy/service.js';
import type { AdminContext } from './context.js';
import { AdminProblem } from './problems.js';

/** A device's page and API entry: the inventory service's view, or a 404 problem. */
export async function loadDeviceView(admin: AdminContext, ref: string): Promise<DeviceDetails> {
  try {
    return await showDevice(admin, ref.slice(0, 128));
  } catch (err) {
    if (err instanceof NotFoundError) throw new AdminProblem('notFound', err.message);
    throw err;
  }
}
