import type { Command } from 'commander';
import { describeMaintenanceWindow, parseMaintenanceWindow } from '../policy/maintenance-window.js';
import { addDevice, listDevices, removeDevice, showDevice, updateDevice } from '../policy/devices.js';
import type { CertificateRecord, Device } from '../store/index.js';
import { collect } from './options.js';
import { info, printListing } from './output.js';
import { cliActor, withAuditedStore } from './recorder.js';
import { storeTargetOptions, withStore, type StoreTargetOptions } from './store-target.js';

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('the device inventory: what may enrol, which names it may hold, when it may renew');
  storeTargetOptions(
    descriptionOptions(
      device
        .command('add')
        .description('add a device and print its one-time EAB credential (shown once)')
        .requiredOption('--name <name>', 'unique device name, e.g. ct-scanner-2')
        .requiredOption('--type <type>', 'modality, gateway, pacs, interface-engine or other')
        .requiredOption('--identifiers <id...>', 'names it may order: exact names, .suffixes, CIDR blocks'),
    ).option('--json', 'print {"device","eab"} as JSON'),
  ).action(add);
  storeTargetOptions(
    descriptionOptions(
      device
        .command('update')
        .description('change a device; its account follows at its next order and renewalInfo poll')
        .requiredOption('--name <name>', 'device name or id')
        .option('--rename <name>', 'a new unique name')
        .option('--type <type>', 'modality, gateway, pacs, interface-engine or other')
        .option('--identifiers <id...>', 'replace the names it may order'),
    )
      .option('--no-maintenance', 'remove the maintenance window')
      .option('--json', 'print the device as JSON'),
  ).action(update);
  storeTargetOptions(device.command('list').description('list the devices').option('--json', 'print a JSON array')).action(list);
  storeTargetOptions(
    device.command('show').description("a device with its certificates and its agent's last report").requiredOption('--name <name>', 'device name or id').option('--json', 'print JSON'),
  ).action(show);
  storeTargetOptions(
    device.command('remove').description('remove a device: its accounts are deactivated, its unused credentials deleted').requiredOption('--name <name>', 'device name or id'),
  ).action(remove);
}

/** The options that describe a device, shared by add and update. */
function descriptionOptions(cmd: Command): Command {
  return cmd
    .option('--department <text>', 'e.g. Radiology')
    .option('--location <text>', 'e.g. Building C, room 2.14')
    .option('--ae-title <title>', 'a DICOM AE title of the device (repeatable; update replaces them all)', collect)
    .option('--hl7-application <name>', 'HL7 sending/receiving application (MSH-3/MSH-5)')
    .option('--hl7-facility <name>', 'HL7 facility (MSH-4/MSH-6)')
    .option('--maintenance <window>', 'when renewal and reloads are welcome, e.g. "Mon-Fri 12:00-14:00"')
    .option('--time-zone <zone>', "the maintenance window's IANA time zone (default: this machine's)");
}

interface DescriptionOptions {
  type?: string;
  identifiers?: string[];
  department?: string;
  location?: string;
  aeTitle?: string[];
  hl7Application?: string;
  hl7Facility?: string;
  /** false: --no-maintenance; true: neither flag given (commander's default beside a --no- option). */
  maintenance?: string | boolean;
  timeZone?: string;
}

/** The service's input from what was given on the command line; what was not given stays out. */
function describedFields(opts: DescriptionOptions): Record<string, unknown> {
  if (opts.timeZone !== undefined && typeof opts.maintenance !== 'string') throw new Error('--time-zone needs --maintenance');
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const given = (value: unknown, key: string) => (value === undefined ? {} : { [key]: value });
  return {
    ...given(opts.type, 'type'),
    ...given(opts.identifiers, 'allowedIdentifiers'),
    ...given(opts.aeTitle, 'aeTitles'),
    ...given(opts.department, 'department'),
    ...given(opts.location, 'location'),
    ...given(opts.hl7Application, 'hl7Application'),
    ...given(opts.hl7Facility, 'hl7Facility'),
    ...given(opts.maintenance === false ? null : typeof opts.maintenance === 'string' ? parseMaintenanceWindow(opts.maintenance, timeZone) : undefined, 'maintenanceWindow'),
  };
}

async function add(opts: StoreTargetOptions & DescriptionOptions & { name: string; json?: boolean }): Promise<void> {
  const input = { name: opts.name, ...describedFields(opts) };
  const { device, eab } = await withAuditedStore(opts, (store, audit) => addDevice({ store, audit }, input, cliActor()));
  if (opts.json) {
    info(JSON.stringify({ device, eab }));
    return;
  }
  printDevice(device);
  info(`kid:     ${eab.kid}`);
  info(`hmacKey: ${eab.hmacKey}`);
  info('shown once: the CA keeps the key sealed and never prints it again; it binds the first ACME account that uses it');
}

async function list(opts: StoreTargetOptions & { json?: boolean }): Promise<void> {
  const devices = await withStore(opts, (store) => listDevices({ store }));
  printListing(devices, opts.json, 'devices', (d) => {
    const window = d.maintenanceWindow ? `  maintenance ${describeMaintenanceWindow(d.maintenanceWindow)}` : '';
    return `${d.name}  ${d.type}  ${d.department ?? '-'}  ${d.allowedIdentifiers.join(',')}${window}`;
  });
}

/** A certificate without its DER: what a person or a script wants to know of it. */
const certificateSummary = (c: CertificateRecord) => ({
  serial: c.serial,
  profile: c.profile,
  identifiers: c.identifiers.map((i) => i.value),
  notBefore: c.notBefore,
  notAfter: c.notAfter,
  status: c.status,
  revokedAt: c.revokedAt,
});

async function show(opts: StoreTargetOptions & { name: string; json?: boolean }): Promise<void> {
  const details = await withStore(opts, (store) => showDevice({ store }, opts.name));
  const certificates = details.certificates.map(certificateSummary);
  if (opts.json) {
    info(JSON.stringify({ device: details.device, certificates, agentReport: details.agentReport }));
    return;
  }
  printDevice(details.device);
  info(`certificates: ${certificates.length === 0 ? 'none' : ''}`);
  for (const c of certificates) info(`  ${c.serial}  ${c.profile}  ${c.status}  until ${c.notAfter.toISOString()}  ${c.identifiers.join(',')}`);
  const report = details.agentReport;
  info(report ? `agent report: received ${report.receivedAt.toISOString()} from ${report.remoteAddress ?? 'unknown'}: ${JSON.stringify(report.report)}` : 'agent report: none yet');
}

async function update(opts: StoreTargetOptions & DescriptionOptions & { name: string; rename?: string; json?: boolean }): Promise<void> {
  const change = { ...describedFields(opts), ...(opts.rename !== undefined ? { name: opts.rename } : {}) };
  if (Object.keys(change).length === 0) throw new Error('nothing to change: give at least one of the device options');
  const device = await withAuditedStore(opts, (store, audit) => updateDevice({ store, audit }, opts.name, change, cliActor()));
  if (opts.json) info(JSON.stringify(device));
  else printDevice(device);
}

async function remove(opts: StoreTargetOptions & { name: string }): Promise<void> {
  const device = await withAuditedStore(opts, (store, audit) => removeDevice({ store, audit }, opts.name, cliActor()));
  info(`removed device ${device.name}: its accounts can order nothing more; its certificates stay valid until revoked or expired`);
}

function printDevice(d: Device): void {
  info(`device:      ${d.name} (${d.id})`);
  info(`type:        ${d.type}`);
  if (d.department) info(`department:  ${d.department}`);
  if (d.location) info(`location:    ${d.location}`);
  if (d.aeTitles.length) info(`AE titles:   ${d.aeTitles.join(', ')}`);
  if (d.hl7Application || d.hl7Facility) info(`HL7:         ${d.hl7Application ?? '-'} / ${d.hl7Facility ?? '-'}`);
  info(`identifiers: ${d.allowedIdentifiers.join(', ')}`);
  if (d.maintenanceWindow) info(`maintenance: ${describeMaintenanceWindow(d.maintenanceWindow)}`);
}
