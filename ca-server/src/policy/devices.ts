import { z } from 'zod';
import { normaliseAllowEntry } from '../acme/identifiers.js';
import {
  DEVICE_TYPES,
  type AgentReportRecord,
  type CertificateRecord,
  type Device,
  type DeviceFields,
  type Store,
} from '../store/index.js';
import { maintenanceWindowSchema } from './maintenance-window.js';
import { clock, NotFoundError, parseInput, type Acting, type ServiceDeps } from './service.js';

/** DICOM PS3.5 AE title: 1 to 16 characters of the default repertoire, no backslash, not only spaces. */
const aeTitle = z
  .string()
  .regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'a DICOM AE title: up to 16 printable ASCII characters, no backslash')
  .transform((s) => s.trim())
  .refine((s) => s.length > 0, 'an AE title must not be only spaces');

/** An HL7 v2 HD namespace id: printable, without the message delimiters | ^ ~ \ &. */
const hl7Name = z.string().regex(/^[\x20-\x7e]{1,64}$/).refine((s) => !/[|^~\\&]/.test(s), 'no HL7 delimiters (| ^ ~ \\ &)').nullable();

const label = z.string().trim().min(1).max(128).nullable();

const allowEntry = z.string().max(253).transform((entry, ctx) => {
  try {
    return normaliseAllowEntry(entry);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const fields = {
  name: z.string().regex(/^[\w.-]{1,128}$/, 'letters, digits, dot, dash and underscore, at most 128'),
  type: z.enum(DEVICE_TYPES),
  department: label,
  location: label,
  aeTitles: z.array(aeTitle).max(16),
  hl7Application: hl7Name,
  hl7Facility: hl7Name,
  /** At least one: an enrolled device with an empty list would fall back to the whole server policy. */
  allowedIdentifiers: z.array(allowEntry).min(1).max(100),
  maintenanceWindow: maintenanceWindowSchema.nullable(),
};

/** What an operator gives to create a device, from the CLI or the admin API alike. */
export const deviceInputSchema = z
  .object({
    ...fields,
    department: fields.department.default(null),
    location: fields.location.default(null),
    aeTitles: fields.aeTitles.default([]),
    hl7Application: fields.hl7Application.default(null),
    hl7Facility: fields.hl7Facility.default(null),
    maintenanceWindow: fields.maintenanceWindow.default(null),
  })
  .strict();

/** A change: any subset of the fields; null clears an optional one. */
export const deviceUpdateSchema = z.object(fields).partial().strict();

export type DeviceInput = z.input<typeof deviceInputSchema>;
export type DeviceUpdate = z.input<typeof deviceUpdateSchema>;

export interface EnrolmentCredential {
  kid: string;
  /** Shown once: the store keeps it sealed and never hands it out again. */
  hmacKey: string;
}

export interface DeviceDetails {
  device: Device;
  certificates: CertificateRecord[];
  agentReport: AgentReportRecord | null;
}

/** A device by its id or, failing that, its name. */
export async function findDevice(store: Store, ref: string): Promise<Device> {
  const device = (await store.devices.byId(ref)) ?? (await store.devices.byName(ref));
  if (!device) throw new NotFoundError('device', ref);
  return device;
}

/**
 * Creates the device and its one-time EAB credential in one transaction: no device without a way
 * to enrol, no credential for a device that does not exist. The account that uses the credential
 * belongs to the device and may order only the device's current identifiers.
 */
export async function addDevice(deps: ServiceDeps, input: unknown, by: Acting): Promise<{ device: Device; eab: EnrolmentCredential }> {
  const wanted: DeviceFields = parseInput(deviceInputSchema, input, 'device');
  const now = clock(deps);
  const { device, credential } = await deps.store.knex.transaction(async (trx) => {
    const device = await deps.store.devices.create(wanted, now, trx);
    const credential = await deps.store.eab.create({ deviceId: device.id, identifiers: device.allowedIdentifiers, trx }, now);
    return { device, credential };
  });
  await deps.audit.record({
    type: 'device.created',
    outcome: 'success',
    ...by,
    subject: { kind: 'device', id: device.id },
    details: { name: device.name, type: device.type, identifiers: device.allowedIdentifiers },
  });
  await recordEabCreated(deps, by, credential.kid, device);
  return { device, eab: { kid: credential.kid, hmacKey: credential.hmacKey } };
}

/** Another one-time credential for a device whose agent lost its account (a replaced disk, a reinstall). */
export async function newEnrolmentCredential(deps: ServiceDeps, ref: string, by: Acting): Promise<EnrolmentCredential> {
  const device = await findDevice(deps.store, ref);
  const credential = await deps.store.eab.create({ deviceId: device.id, identifiers: device.allowedIdentifiers }, clock(deps));
  await recordEabCreated(deps, by, credential.kid, device);
  return { kid: credential.kid, hmacKey: credential.hmacKey };
}

function recordEabCreated(deps: ServiceDeps, by: Acting, kid: string, device: Device): Promise<void> {
  return deps.audit.record({ type: 'eab.created', outcome: 'success', ...by, subject: { kind: 'eab', id: kid }, details: { device: device.name } });
}

export function listDevices(deps: Pick<ServiceDeps, 'store'>): Promise<Device[]> {
  return deps.store.devices.list();
}

/** The device with its certificates (newest expiry first) and its agent's last report. */
export async function showDevice(deps: Pick<ServiceDeps, 'store'>, ref: string): Promise<DeviceDetails> {
  const device = await findDevice(deps.store, ref);
  const [certificates, agentReport] = await Promise.all([
    deps.store.certificates.list({ deviceId: device.id }),
    deps.store.agentReports.latestForDevice(device.id),
  ]);
  return { device, certificates: certificates.reverse(), agentReport: agentReport ?? null };
}

/** Applies a change; the device's accounts see new identifiers and maintenance window at their next request. */
export async function updateDevice(deps: ServiceDeps, ref: string, change: unknown, by: Acting): Promise<Device> {
  const patch = parseInput(deviceUpdateSchema, change, 'device');
  const current = await findDevice(deps.store, ref);
  const updated = await deps.store.devices.update(current.id, patch, clock(deps));
  if (!updated) throw new NotFoundError('device', ref);
  await deps.audit.record({
    type: 'device.updated',
    outcome: 'success',
    ...by,
    subject: { kind: 'device', id: updated.id },
    details: { name: updated.name, changed: Object.keys(patch), identifiers: updated.allowedIdentifiers },
  });
  return updated;
}

/** Removes the device; its accounts are deactivated and its unused credentials deleted (see the repository). */
export async function removeDevice(deps: ServiceDeps, ref: string, by: Acting): Promise<Device> {
  const device = await findDevice(deps.store, ref);
  if (!(await deps.store.devices.remove(device.id))) throw new NotFoundError('device', ref);
  await deps.audit.record({ type: 'device.removed', outcome: 'success', ...by, subject: { kind: 'device', id: device.id }, details: { name: device.name } });
  return device;
}

/**
 * What an account may order beyond the server's policy: its device's current identifiers when it
 * belongs to an inventory device, else the list copied from its EAB credential (null: none).
 */
export async function accountAllowedIdentifiers(store: Store, account: { deviceId: string | null; allowedIdentifiers: string[] | null }): Promise<string[] | null> {
  const device = account.deviceId ? await store.devices.byId(account.deviceId) : undefined;
  return device ? device.allowedIdentifiers : account.allowedIdentifiers;
}
