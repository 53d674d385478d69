import type { Knex } from 'knex';
import { fromMillis, toMillis, type Millis } from './columns.js';
import { randomId } from './ids.js';

export const DEVICE_TYPES = ['modality', 'gateway', 'pacs', 'interface-engine', 'other'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When renewal and listener reloads are welcome: on these local days, from start to end ("HH:MM"). */
export interface MaintenanceWindow {
  days: Weekday[];
  start: string;
  /** Not after start: the window runs past midnight into the next day. */
  end: string;
  /** IANA name, e.g. Europe/Berlin: the hospital's clock, with its DST changes. */
  timeZone: string;
}

export interface DeviceFields {
  name: string;
  type: DeviceType;
  department: string | null;
  location: string | null;
  aeTitles: string[];
  hl7Application: string | null;
  hl7Facility: string | null;
  /** Exact names, ".suffix" entries and CIDR blocks its account may order. */
  allowedIdentifiers: string[];
  maintenanceWindow: MaintenanceWindow | null;
}

export interface Device extends DeviceFields {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

export class DeviceNameTakenError extends Error {
  override readonly name = 'DeviceNameTakenError';

  constructor(readonly deviceName: string) {
    super(`a device named "${deviceName}" already exists`);
  }
}

export interface DeviceRepository {
  /** Throws DeviceNameTakenError when the name is in use. */
  create(fields: DeviceFields, now: Date, trx?: Knex.Transaction): Promise<Device>;
  byId(id: string): Promise<Device | undefined>;
  byName(name: string): Promise<Device | undefined>;
  /** Ordered by name. */
  list(): Promise<Device[]>;
  /** Undefined when no such device; throws DeviceNameTakenError on a rename onto another's name. */
  update(id: string, change: Partial<DeviceFields>, now: Date, trx?: Knex.Transaction): Promise<Device | undefined>;
  /**
   * Removes the device, deactivates its ACME accounts (they can order nothing any more) and deletes
   * its credentials nobody used yet. Its certificates stay recorded; revoking them is a separate act.
   */
  remove(id: string, trx?: Knex.Transaction): Promise<boolean>;
}

interface Row {
  id: string;
  name: string;
  type: DeviceType;
  department: string | null;
  location: string | null;
  ae_titles: string;
  hl7_application: string | null;
  hl7_facility: string | null;
  allowed_identifiers: string;
  maintenance_window: string | null;
  created_at: Millis;
  updated_at: Millis;
}

function fieldColumns(f: Partial<DeviceFields>): Partial<Row> {
  const row: Partial<Row> = {};
  if (f.name !== undefined) row.name = f.name;
  if (f.type !== undefined) row.type = f.type;
  if (f.department !== undefined) row.department = f.department;
  if (f.location !== undefined) row.location = f.location;
  if (f.aeTitles !== undefined) row.ae_titles = JSON.stringify(f.aeTitles);
  if (f.hl7Application !== undefined) row.hl7_application = f.hl7Application;
  if (f.hl7Facility !== undefined) row.hl7_facility = f.hl7Facility;
  if (f.allowedIdentifiers !== undefined) row.allowed_identifiers = JSON.stringify(f.allowedIdentifiers);
  if (f.maintenanceWindow !== undefined) row.maintenance_window = f.maintenanceWindow ? JSON.stringify(f.maintenanceWindow) : null;
  return row;
}

const fromRow = (r: Row): Device => ({
  id: r.id,
  name: r.name,
  type: r.type,
  department: r.department,
  location: r.location,
  aeTitles: JSON.parse(r.ae_titles) as string[],
  hl7Application: r.hl7_application,
  hl7Facility: r.hl7_facility,
  allowedIdentifiers: JSON.parse(r.allowed_identifiers) as string[],
  maintenanceWindow: r.maintenance_window ? (JSON.parse(r.maintenance_window) as MaintenanceWindow) : null,
  createdAt: fromMillis(r.created_at),
  updatedAt: fromMillis(r.updated_at),
});

export function deviceRepository(db: Knex): DeviceRepository {
  const byId = async (id: string, q: Knex | Knex.Transaction = db) => {
    const row = await q<Row>('devices').where({ id }).first();
    return row ? fromRow(row) : undefined;
  };
  const nameTaken = async (name: string, q: Knex | Knex.Transaction) => (await q('devices').where({ name }).first()) !== undefined;
  return {
    async create(fields, now, trx) {
      const q = trx ?? db;
      const row = { id: `dev-${randomId()}`, ...fieldColumns(fields), created_at: toMillis(now), updated_at: toMillis(now) } as Row;
      // ON CONFLICT DO NOTHING: no driver-specific error codes, and an enclosing pg transaction survives.
      const inserted = await q('devices').insert(row).onConflict('name').ignore().returning('id');
      if (inserted.length === 0) throw new DeviceNameTakenError(fields.name);
      return fromRow(row);
    },
    byId: (id) => byId(id),
    async byName(name) {
      const row = await db<Row>('devices').where({ name }).first();
      return row ? fromRow(row) : undefined;
    },
    async list() {
      return (await db<Row>('devices').orderBy('name')).map(fromRow);
    },
    async update(id, change, now, trx) {
      const q = trx ?? db;
      const current = await byId(id, q);
      if (!current) return undefined;
      if (change.name !== undefined && change.name !== current.name && (await nameTaken(change.name, q))) throw new DeviceNameTakenError(change.name);
      await q('devices').where({ id }).update({ ...fieldColumns(change), updated_at: toMillis(now) });
      return byId(id, q);
    },
    async remove(id, trx) {
      const work = async (q: Knex.Transaction) => {
        const removed = await q('devices').where({ id }).delete();
        if (removed === 0) return false;
        await q('accounts').where({ device_id: id, status: 'valid' }).update({ status: 'deactivated' });
        await q('eab_credentials').where({ device_id: id }).whereNull('account_id').delete();
        return true;
      };
      return trx ? work(trx) : db.transaction(work);
    },
  };
}
