import type { Store } from '../store/index.js';

/** The inventory names of the devices a page mentions, by id (one lookup per distinct id, a page's worth). */
export async function namesOfDevices(store: Store, ids: (string | null)[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids.filter((id): id is string => id !== null))];
  const devices = await Promise.all(unique.map((id) => store.devices.byId(id)));
  return new Map(devices.filter((d) => d !== undefined).map((d) => [d.id, d.name]));
}
