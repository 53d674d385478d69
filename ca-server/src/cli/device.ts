import type { Command } from 'commander';
import { describeMaintenanceWindow, parseMaintenanceWindow } from '../policy/maintenance-window.js';
import { addDevice, listDevices, removeDevice, showDevice } from '../policy/devices.js';
import type { CertificateRecord, Device } from '../store/index.js';
import { collect } from './options.js';
import { info, printListing } from './output.js';
import { cliActor, withAuditedStore } from './recorder.js';
import { storeTargetOptions, withStore, type StoreTargetOptions } from './store-target.js';

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('the device inventory: what may enrol, which names it may hold, when it may renew');
  storeTargetOptions(
    device
      .command('add')
      .description('add a device and print its one-time EAB credential (shown once)')
      .requiredOption('--name <name>', 'unique device name, e.g. ct-scanner-2')
      .requiredOption('--type <type>', 'modality, gateway, pacs, interface-engine or other')
      .requiredOption('--identifiers <id...>', 'names it may order: exact names, .suffixes, CIDR blocks')
      .option('--department <text>', 'e.g. Radiology')
      .option('--location <text>', 'e.g. Building C, room 2.14')
      .option('--ae-title <title>', 'a DICOM AE title of the device (repeatable)', collect, [])
      .option('--hl7-application <name>', 'HL7 sending/receiving application (MSH-3/MSH-5)')
      .option('--hl7-facility <name>', 'HL7 facility (MSH-4/MSH-6)')
      .option('--maintenance <window>', 'when renewal and reloads are welcome, e.g. "Mon-Fri 12:00-14:00"')
      .option('--time-zone <zone>', "the maintenance window's IANA time zone (default: this machine's)")
      .option('--json', 'print {"device","eab"} as JSON'),
  ).action(add);
  storeTargetOptions(device.command('list').description('list the devices').option('--json', 'print a JSON array')).action(list);
  storeTargetOptions(
    device.command('show').description("a device with its certificates and its agent's last report").requiredOption('--name <name>', 'device name or id').option('--json', 'print JSON'),
  ).action(show);
  storeTargetOptions(
    device.command('remove').description('remove a device: its accounts are deactivated, its unused credentials deleted').requiredOption('--name <name>', 'device name or id'),
  ).action(remove);
}

interface AddOptions extends StoreTargetOptions {
  name: string;
  type: string;
  identifiers: string[];
  department?: string;
  location?: string;
  aeTitle: string[];
  hl7Application?: string;
  hl7Facility?: string;
  maintenance?: string;
  timeZone?: string;
  json?: boolean;
}

async function add(opts: AddOptions): Promise<void> {
  if (opts.timeZone !== undefined && opts.maintenance === undefined) throw new Error('--time-zone needs --maintenance');
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const input = {
    name: opts.name,
    type: opts.type,
    allowedIdentifiers: opts.identifiers,
    aeTitles: opts.aeTitle,
    ...(opts.department !== undefined ? { department: opts.department } : {}),
    ...(opts.location !== undefined ? { location: opts.location } : {}),
    ...(opts.hl7Application !== undefined ? { hl7Application: opts.hl7Application } : {}),
    ...(opts.hl7Facility !== undefined ? { hl7Facility: opts.hl7Facility } : {}),
    ...(opts.maintenance !== undefined ? { maintenanceWindow: parseMaintenanceWindow(opts.maintenance, timeZone) } : {}),
  };
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
