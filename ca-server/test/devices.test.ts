import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { certId } from '../src/acme/cert-id.js';
import type { AuditEvent, AuditRecorder } from '../src/audit/event.js';
import { addDevice, removeDevice, showDevice, updateDevice } from '../src/policy/devices.js';
import { InputError, NotFoundError, type Acting } from '../src/policy/service.js';
import { DeviceNameTakenError, openStore, SecretBoxError, type Store } from '../src/store/index.js';
import { dataKeyPath } from '../src/store/secret-box.js';
import { TestAcmeClient } from './helpers/acme-client.js';
import { startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { issueThroughFixture } from './helpers/acme-flow.js';
import { runCa } from './helpers/cli.js';
import { storeBackends, type StoreLocation } from './helpers/store-backends.js';

const ERR = 'urn:ietf:params:acme:error:';
const OPERATOR: Acting = { actor: { kind: 'user', id: 'u-1', name: 'ward-it' }, source: '10.20.0.7' };

/** Collects what the service records, so tests can assert on the audit trail's input. */
function collectingRecorder(): AuditRecorder & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, record: async (e) => void events.push(e) };
}

const ct2 = {
  name: 'ct-scanner-2',
  type: 'modality',
  department: 'Radiology',
  location: 'Building C, 2.14',
  aeTitles: ['CT2_SCU', 'CT2_SCP'],
  allowedIdentifiers: ['ct2.radiology.hospital.test', '10.20.3.0/24'],
  maintenanceWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '12:00', end: '14:00', timeZone: 'Europe/Berlin' },
};

const backends = storeBackends('wardcert-devices');

for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`device inventory on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: Store;
    let audit: ReturnType<typeof collectingRecorder>;
    const deps = () => ({ store, audit, now: () => new Date('2027-01-04T08:00:00Z') });

    beforeEach(async () => {
      location = await backend.location();
      store = await openStore(location.options);
      audit = collectingRecorder();
    });
    afterEach(async () => {
      await store.close();
      await location.dispose();
    });

    it('adds a device with a one-time EAB credential bound to it, and records both', async () => {
      const { device, eab } = await addDevice(deps(), ct2, OPERATOR);
      expect(device).toMatchObject({ name: 'ct-scanner-2', type: 'modality', aeTitles: ['CT2_SCU', 'CT2_SCP'], hl7Application: null, allowedIdentifiers: ct2.allowedIdentifiers });
      expect(device.maintenanceWindow).toEqual(ct2.maintenanceWindow);
      expect(Buffer.from(eab.hmacKey, 'base64url')).toHaveLength(32);
      expect(await store.eab.byKid(eab.kid)).toMatchObject({ deviceId: device.id, identifiers: ct2.allowedIdentifiers, accountId: null, hmacKey: eab.hmacKey });
      expect(audit.events.map((e) => e.type)).toEqual(['device.created', 'eab.created']);
      expect(audit.events[0]).toMatchObject({ actor: OPERATOR.actor, source: '10.20.0.7', subject: { kind: 'device', id: device.id }, details: { name: 'ct-scanner-2' } });
      expect(audit.events[1]).toMatchObject({ subject: { kind: 'eab', id: eab.kid }, details: { device: 'ct-scanner-2' } });
      expect(JSON.stringify(audit.events)).not.toContain(eab.hmacKey);
    });

    it('keeps the HMAC key sealed at rest: the row holds no key, and it opens only with this data key in its own row', async () => {
      const { eab } = await addDevice(deps(), ct2, OPERATOR);
      const row = await store.knex('eab_credentials').where({ kid: eab.kid }).first();
      expect(row.hmac_key).toMatch(/^v1\./);
      expect(row.hmac_key).not.toContain(eab.hmacKey);
      expect((await stat(dataKeyPath(location.options.dataDir!))).mode & 0o777).toBe(0o600);
      // The sealed value moved into another credential's row does not open there.
      const other = await store.eab.create({ identifiers: [] }, new Date());
      await store.knex('eab_credentials').where({ kid: other.kid }).update({ hmac_key: row.hmac_key });
      await expect(store.eab.byKid(other.kid)).rejects.toThrow(SecretBoxError);
      // Another data key names the mismatch instead of handing out garbage.
      await store.close();
      await writeFile(dataKeyPath(location.options.dataDir!), `${Buffer.alloc(32, 9).toString('base64')}\n`);
      store = await openStore(location.options);
      await expect(store.eab.byKid(eab.kid)).rejects.toThrow(/sealed under data key [0-9a-f]{16}, but this instance holds/);
    });

    it('seals a key an older version stored in plaintext when the store opens', async () => {
      await store.knex('eab_credentials').insert({ kid: 'kid-legacy', hmac_key: 'bGVnYWN5IGtleSBieXRlcyBsZWdhY3kga2V5IGJ5dGVz', identifiers: '[]', created_at: 1 });
      await store.close();
      store = await openStore(location.options);
      expect((await store.knex('eab_credentials').where({ kid: 'kid-legacy' }).first()).hmac_key).toMatch(/^v1\./);
      expect((await store.eab.byKid('kid-legacy'))!.hmacKey).toBe('bGVnYWN5IGtleSBieXRlcyBsZWdhY3kga2V5IGJ5dGVz');
    });

    it('refuses a store without a data directory any secret, with a message that says what to do', async () => {
      if (!location.options.url) return; // SQLite always has its data directory
      const bare = await openStore({ url: location.options.url });
      try {
        await expect(bare.eab.create({ identifiers: [] }, new Date())).rejects.toThrow(/--data DIR or --config FILE/);
      } finally {
        await bare.close();
      }
    });

    it('refuses bad input with the field named, and a second device of the same name', async () => {
      await addDevice(deps(), ct2, OPERATOR);
      await expect(addDevice(deps(), ct2, OPERATOR)).rejects.toThrow(DeviceNameTakenError);
      const bad = [
        [{ ...ct2, name: 'ct 2' }, /^name:/],
        [{ ...ct2, name: 'x', type: 'scanner' }, /^type:/],
        [{ ...ct2, name: 'x', allowedIdentifiers: [] }, /^allowedIdentifiers:/],
        [{ ...ct2, name: 'x', allowedIdentifiers: ['10.0.0.0/33'] }, /^allowedIdentifiers\.0:.*CIDR/],
        [{ ...ct2, name: 'x', aeTitles: ['A\\B'] }, /^aeTitles\.0:/],
        [{ ...ct2, name: 'x', aeTitles: ['X'.repeat(17)] }, /^aeTitles\.0:/],
        [{ ...ct2, name: 'x', hl7Facility: 'A|B' }, /^hl7Facility:.*delimiters/],
        [{ ...ct2, name: 'x', maintenanceWindow: { ...ct2.maintenanceWindow, timeZone: 'Nowhere/City' } }, /^maintenanceWindow\.timeZone:/],
        [{ ...ct2, name: 'x', extra: 1 }, /extra/],
      ] as const;
      for (const [input, message] of bad) await expect(addDevice(deps(), input, OPERATOR), JSON.stringify(input)).rejects.toThrow(message);
      await expect(addDevice(deps(), { ...ct2, name: 'x', type: 'scanner' }, OPERATOR)).rejects.toThrow(InputError);
      expect((await store.devices.list()).map((d) => d.name)).toEqual(['ct-scanner-2']);
      expect(audit.events.filter((e) => e.type === 'device.created')).toHaveLength(1);
    });

    it('updates fields, refuses a rename onto another device, and records the change', async () => {
      const { device } = await addDevice(deps(), ct2, OPERATOR);
      await addDevice(deps(), { ...ct2, name: 'mr-1', allowedIdentifiers: ['mr1.hospital.test'] }, OPERATOR);
      const updated = await updateDevice(deps(), 'ct-scanner-2', { location: null, allowedIdentifiers: ['ct2b.hospital.test'], maintenanceWindow: null }, OPERATOR);
      expect(updated).toMatchObject({ id: device.id, location: null, allowedIdentifiers: ['ct2b.hospital.test'], maintenanceWindow: null, department: 'Radiology' });
      await expect(updateDevice(deps(), device.id, { name: 'mr-1' }, OPERATOR)).rejects.toThrow(DeviceNameTakenError);
      await expect(updateDevice(deps(), 'no-such', { location: 'x' }, OPERATOR)).rejects.toThrow(NotFoundError);
      await expect(updateDevice(deps(), device.id, { type: 'toaster' }, OPERATOR)).rejects.toThrow(/^type:/);
      const updates = audit.events.filter((e) => e.type === 'device.updated');
      expect(updates).toHaveLength(1);
      expect(updates[0]!.details).toMatchObject({ changed: ['location', 'allowedIdentifiers', 'maintenanceWindow'] });
    });

    it("shows a device's certificates and its agent's newest report; removal deactivates its accounts and deletes unused credentials", async () => {
      const { device, eab } = await addDevice(deps(), ct2, OPERATOR);
      const spare = await store.eab.create({ deviceId: device.id, identifiers: device.allowedIdentifiers }, new Date());
      const account = await store.accounts.create({ thumbprint: 't1', jwk: {}, contact: [], eabKid: eab.kid, deviceId: device.id, allowedIdentifiers: device.allowedIdentifiers }, new Date());
      await store.eab.bind(eab.kid, account.id, new Date());
      for (const [serial, day] of [['0a', 5], ['0b', 8]] as const) {
        await store.certificates.insert({
          serial, profile: 'dicom-node', subject: 'CN=ct2', identifiers: [{ type: 'dns', value: 'ct2.radiology.hospital.test' }],
          notBefore: new Date(Date.UTC(2027, 0, day - 3)), notAfter: new Date(Date.UTC(2027, 0, day)), der: new Uint8Array([1]),
          issuerKeyId: 'aa', spkiSha256: serial, accountId: account.id, deviceId: device.id,
        });
      }
      await store.agentReports.save({ accountId: 'old', deviceId: device.id, report: { v: 1 }, remoteAddress: null, receivedAt: new Date(1000) });
      await store.agentReports.save({ accountId: account.id, deviceId: device.id, report: { v: 2 }, remoteAddress: '10.20.3.4', receivedAt: new Date(2000) });
      const details = await showDevice({ store }, 'ct-scanner-2');
      expect(details.certificates.map((c) => c.serial)).toEqual(['0b', '0a']);
      expect(details.agentReport).toMatchObject({ report: { v: 2 }, remoteAddress: '10.20.3.4' });

      await removeDevice(deps(), device.id, OPERATOR);
      expect(await store.devices.byId(device.id)).toBeUndefined();
      expect((await store.accounts.byId(account.id))!.status).toBe('deactivated');
      expect(await store.eab.byKid(spare.kid)).toBeUndefined();
      expect((await store.certificates.bySerial('0a'))!.status).toBe('valid');
      expect(audit.events.at(-1)).toMatchObject({ type: 'device.removed', subject: { kind: 'device', id: device.id } });
      await expect(removeDevice(deps(), device.id, OPERATOR)).rejects.toThrow(NotFoundError);
    });
  });
}

describe('enrolment through ACME', () => {
  let f: AcmeFixture;
  const audit = collectingRecorder();
  beforeAll(async () => {
    f = await startAcmeFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  async function enrolled(input: Record<string, unknown>) {
    const { device, eab } = await addDevice({ store: f.store, audit }, input, OPERATOR);
    const c = await TestAcmeClient.create(f.directoryUrl);
    expect((await c.register(eab)).status).toBe(201);
    return { device, eab, c };
  }

  it("binds the account to the device; its orders may name only the device's current identifiers", async () => {
    const { device, c } = await enrolled({ name: 'gw-7', type: 'gateway', allowedIdentifiers: ['127.0.0.7'] });
    const account = await f.store.accounts.byId(c.kid!.split('/').pop()!);
    expect(account).toMatchObject({ deviceId: device.id });
    const refused = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.6' }, { type: 'ip', value: '127.0.0.7' }] });
    expect(refused.body.type).toBe(`${ERR}rejectedIdentifier`);
    expect(refused.body.subproblems.map((s: any) => s.identifier.value)).toEqual(['127.0.0.6']);
    expect((await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.7' }] })).status).toBe(201);

    // The inventory, not the copy taken at enrolment, decides: a change applies at the next order.
    await updateDevice({ store: f.store, audit }, device.id, { allowedIdentifiers: ['127.0.0.6'] }, OPERATOR);
    expect((await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.6' }] })).status).toBe(201);
    const nowRefused = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.7' }] });
    expect(nowRefused.body.type).toBe(`${ERR}rejectedIdentifier`);
    expect(nowRefused.body.detail).toContain("registered for this account's device");
  });

  it('a credential binds once; a removed device can order nothing', async () => {
    const { device, eab, c } = await enrolled({ name: 'gw-8', type: 'gateway', allowedIdentifiers: ['127.0.0.8'] });
    const second = await TestAcmeClient.create(f.directoryUrl);
    expect((await second.register(eab)).body.type).toBe(`${ERR}unauthorized`);
    await removeDevice({ store: f.store, audit }, device.id, OPERATOR);
    const res = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.8' }] });
    expect(res.body.type).toBe(`${ERR}unauthorized`);
    expect(res.body.detail).toContain('deactivated');
  });

  it("suggests a renewal window inside the device's maintenance window, and the plain spread without one", async () => {
    const { device, c } = await enrolled({
      name: 'mod-9', type: 'modality', allowedIdentifiers: ['127.0.0.9'],
      maintenanceWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:00', timeZone: 'UTC' },
    });
    const { chain } = await issueThroughFixture(f, c, [{ type: 'ip', value: '127.0.0.9' }]);
    const cert = (await showDevice({ store: f.store }, device.name)).certificates[0]!;
    expect(chain).toContain('BEGIN CERTIFICATE');
    const id = certId(cert.issuerKeyId, cert.serial);
    const ari = async () => (await (await fetch(`${f.acme.urls.renewalInfo}/${id}`)).json()).suggestedWindow as { start: string; end: string };
    const inside = await ari();
    const start = new Date(inside.start);
    const end = new Date(inside.end);
    // Inside one day's 00:00-23:00 UTC occurrence, a quarter of it long.
    expect(end.toISOString().slice(0, 10)).toBe(start.toISOString().slice(0, 10));
    expect(end.getUTCHours() * 60 + end.getUTCMinutes()).toBeLessThanOrEqual(23 * 60);
    expect(end.getTime() - start.getTime()).toBeLessThanOrEqual((23 * 3_600_000) / 4); // less where the lifetime clips it
    await updateDevice({ store: f.store, audit }, device.id, { maintenanceWindow: null }, OPERATOR);
    const plain = await ari();
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    expect(new Date(plain.end).getTime() - new Date(plain.start).getTime()).toBe(Math.round(life / 12));
  });
});

describe('wardcert-ca device', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wardcert-device-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds (printing the EAB credential once), lists, shows, updates and removes', { timeout: 240_000 }, async () => {
    const add = await runCa([
      'device', 'add', '--data', dir, '--name', 'pacs-1', '--type', 'pacs', '--identifiers', 'pacs1.hospital.test', '.pacs.hospital.test',
      '--ae-title', 'PACS1', '--hl7-application', 'PACS', '--hl7-facility', 'RAD', '--maintenance', 'Mon-Fri 22:00-02:00', '--time-zone', 'Europe/Berlin', '--json',
    ]);
    expect(add.stderr).toBe('');
    const out = JSON.parse(add.stdout);
    expect(Object.keys(out.eab).sort()).toEqual(['hmacKey', 'kid']);
    expect(out.device).toMatchObject({ name: 'pacs-1', type: 'pacs', hl7Application: 'PACS', maintenanceWindow: { start: '22:00', end: '02:00', timeZone: 'Europe/Berlin' } });

    const list = JSON.parse((await runCa(['device', 'list', '--data', dir, '--json'])).stdout);
    expect(list.map((d: any) => d.name)).toEqual(['pacs-1']);
    const text = await runCa(['device', 'list', '--data', dir]);
    expect(text.stdout).toContain('maintenance Mon-Fri 22:00-02:00 Europe/Berlin');
    expect(text.stdout).not.toContain(out.eab.hmacKey);

    const show = JSON.parse((await runCa(['device', 'show', '--data', dir, '--name', 'pacs-1', '--json'])).stdout);
    expect(show).toMatchObject({ device: { id: out.device.id }, certificates: [], agentReport: null });
    expect(JSON.stringify(show)).not.toContain(out.eab.hmacKey);

    // eab create for an inventory device: a new credential for its own identifiers.
    const again = JSON.parse((await runCa(['eab', 'create', '--data', dir, '--device', 'pacs-1', '--json'])).stdout);
    const store = await openStore({ dataDir: dir });
    try {
      expect(await store.eab.byKid(again.kid)).toMatchObject({ deviceId: out.device.id, identifiers: ['pacs1.hospital.test', '.pacs.hospital.test'] });
      // Into the audit trail, as the operator at this terminal.
      const trail = (await store.audit.list({ types: ['device.created', 'eab.created'] })).sort((a, b) => a.seq - b.seq);
      expect(trail.map((e) => [e.type, e.actor.kind, e.subject?.id])).toEqual([
        ['device.created', 'cli', out.device.id],
        ['eab.created', 'cli', out.eab.kid],
        ['eab.created', 'cli', again.kid],
      ]);
    } finally {
      await store.close();
    }
    expect((await runCa(['eab', 'create', '--data', dir, '--device', 'pacs-1', '--identifiers', 'x.hospital.test'])).stderr).toContain('its own identifiers apply');

    // update changes what it is given and nothing else; --no-maintenance clears the window.
    const dept = JSON.parse((await runCa(['device', 'update', '--data', dir, '--name', 'pacs-1', '--department', 'Radiology', '--ae-title', 'PACS1', '--ae-title', 'PACS1B', '--json'])).stdout);
    expect(dept).toMatchObject({ department: 'Radiology', aeTitles: ['PACS1', 'PACS1B'], hl7Facility: 'RAD', maintenanceWindow: { start: '22:00' } });
    const cleared = JSON.parse((await runCa(['device', 'update', '--data', dir, '--name', 'pacs-1', '--no-maintenance', '--identifiers', 'pacs1.hospital.test', '--json'])).stdout);
    expect(cleared).toMatchObject({ maintenanceWindow: null, allowedIdentifiers: ['pacs1.hospital.test'], department: 'Radiology' });
    expect((await runCa(['device', 'update', '--data', dir, '--name', 'pacs-1'])).stderr).toContain('nothing to change');
    expect((await runCa(['device', 'update', '--data', dir, '--name', 'pacs-1', '--type', 'toaster'])).stderr).toContain('type:');

    expect((await runCa(['device', 'remove', '--data', dir, '--name', 'pacs-1'])).stdout).toContain('removed device pacs-1');
    const gone = await runCa(['device', 'show', '--data', dir, '--name', 'pacs-1']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('no device "pacs-1"');
  });

  it('refuses bad input with one clear line', { timeout: 240_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['--name', 'a', '--type', 'toaster', '--identifiers', 'a.hospital.test'], /type:/],
      [['--name', 'a', '--type', 'other', '--identifiers', 'not a name'], /allowedIdentifiers\.0:/],
      [['--name', 'a', '--type', 'other', '--identifiers', 'a.hospital.test', '--maintenance', 'weekdays'], /expected DAYS HH:MM-HH:MM/],
      [['--name', 'a', '--type', 'other', '--identifiers', 'a.hospital.test', '--time-zone', 'UTC'], /--time-zone needs --maintenance/],
    ];
    for (const [args, message] of cases) {
      const r = await runCa(['device', 'add', '--data', dir, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
    expect(JSON.parse((await runCa(['device', 'list', '--data', dir, '--json'])).stdout)).toEqual([]);
    expect((await readFile(join(dir, 'secrets.key'), 'utf8')).trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});
