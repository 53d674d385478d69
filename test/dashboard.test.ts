import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../ca-server/src/admin/totp.js';
import { CA_BIN, startQuickstart, type RunningQuickstart } from './helpers/quickstart.js';
import { startAgentDaemon } from './helpers/agent-cli.js';
import { exec, serialOf } from './helpers/peers.js';
import { freePort, runWith } from './helpers/tools.js';

/**
 * The dashboard in Debian's Chromium, driven by playwright-core (no browser download): log in with
 * the quickstart admin's password and TOTP, enrol a device, issue its certificate with lego, revoke
 * it and see the CRL and OCSP say so; a viewer sees no revoke button and the API refuses it.
 */

const CHROMIUM = '/usr/bin/chromium';
const run = runWith('lego', 'openssl', 'chromium');
// Generous: CI machines are shared, and Chromium, lego and the agent all start in this one test.
const TIMEOUT = 300_000;
const STEP_MS = 60_000;
const SCREENSHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

interface QuickstartAdmin {
  dashboardUrl: string;
  admin: { username: string; password: string; totpSecret: string };
}

let work: string;
let qs: RunningQuickstart;
let info: QuickstartAdmin;
let browser: Browser;
let http01: number;

/** The SHA-256 of the CA's HTTPS key, so Chromium trusts exactly that key and nothing else. */
function serverSpkiHash(dir: string): string {
  const pub = spawnSync('openssl', ['x509', '-in', join(dir, 'server', 'tls.crt.pem'), '-pubkey', '-noout'], { encoding: 'utf8' }).stdout;
  const der = spawnSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub }).stdout;
  return spawnSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).stdout.toString('base64');
}

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 }, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(STEP_MS);
  return context;
}

async function login(page: Page, username: string, password: string, totpSecret?: string): Promise<void> {
  await page.goto(info.dashboardUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  if (totpSecret) {
    const code = page.getByLabel('Six-digit code from your authenticator app');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    await code.fill(totpCode(totpSecret, new Date()));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
}

/** pacs-gw-1, enrolled with `wardcert-ca device add`, and its agent with a DICOM and an HL7 front whose backends are down. */
async function runAgentOnGateway() {
  const added = await exec(process.execPath, [
    CA_BIN, 'device', 'add', '--data', qs.dir, '--name', 'pacs-gw-1', '--type', 'gateway', '--department', 'Radiology',
    '--location', 'Data centre A', '--ae-title', 'PACSGW1', '--identifiers', '127.0.0.2', '--json',
  ]);
  expect(added.code, added.out).toBe(0);
  const { eab } = JSON.parse(added.out) as { eab: { kid: string; hmacKey: string } };
  const [dicom, hl7, closed] = [await freePort(), await freePort(), await freePort()];
  const config = join(work, 'gateway.yaml');
  await writeFile(config, stringify({
    server: { directory: qs.info.directoryUrl, trust: qs.info.rootCertPath },
    account: { eab, contact: ['mailto:pacs-admin@hospital.test'] },
    state: join(work, 'gateway-state'),
    certificate: { identifiers: ['127.0.0.2'], profile: 'dicom-node', key: 'ecdsa-p256' },
    challenge: { http01: { listen: `127.0.0.2:${http01}` } },
    output: { dir: join(work, 'gateway-out') },
    listeners: [
      { kind: 'dicom', listen: `127.0.0.2:${dicom}`, backend: `127.0.0.1:${closed}` },
      { kind: 'hl7', listen: `127.0.0.2:${hl7}`, backend: `127.0.0.1:${closed}` },
    ],
  }));
  return startAgentDaemon(config);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!run)('the dashboard in Chromium', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-dashboard-'));
    http01 = await freePort();
    const [port, httpPort] = [await freePort(), await freePort()];
    qs = await startQuickstart(join(work, 'ca'), ['--port', String(port), '--http-port', String(httpPort), '--http01-port', String(http01)], 2 * STEP_MS);
    info = JSON.parse(await readFile(join(qs.dir, 'quickstart.json'), 'utf8')) as QuickstartAdmin;
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        `--ignore-certificate-errors-spki-list=${serverSpkiHash(qs.dir)}`,
      ],
    });
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await qs?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('admin: logs in with password and TOTP, enrols a device, revokes its lego certificate; CRL and OCSP agree', async () => {
    const context = await newContext();
    const page = await context.newPage();
    // Everything the pages load comes from the dashboard's own origin, and nothing breaks its CSP.
    const elsewhere: string[] = [];
    const cspViolations: string[] = [];
    const origin = new URL(info.dashboardUrl).origin;
    page.on('request', (r) => void (new URL(r.url()).origin !== origin && elsewhere.push(r.url())));
    page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && cspViolations.push(m.text())));
    await page.goto(info.dashboardUrl);
    await expect.poll(() => page.title(), { timeout: STEP_MS }).toContain('Sign in');
    expect(await page.getByLabel('Username').getAttribute('autocomplete')).toBe('username');
    expect(await page.getByLabel('Password').getAttribute('autocomplete')).toBe('current-password');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await shot(page, 'login');
    await login(page, info.admin.username, info.admin.password, info.admin.totpSecret);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    // Enrol a device from the dashboard; its EAB credential is shown once.
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByLabel('Name', { exact: true }).fill('ct-scanner-7');
    await page.getByLabel('Type').selectOption('modality');
    await page.getByLabel('Department').fill('Radiology');
    await page.getByLabel('Location').fill('Building C, room 014');
    await page.getByLabel('Allowed identifiers').fill('127.0.0.1');
    await page.getByRole('button', { name: 'Create device and EAB credential' }).click();
    const result = page.locator('#eab-result');
    await result.waitFor();
    const kid = (await result.locator('[data-kid]').textContent())!;
    const hmac = (await result.locator('[data-hmac]').textContent())!;
    expect(kid).toMatch(/^kid-/);

    const legoDir = join(work, 'lego');
    const issued = await exec('lego', [
      '--server', qs.info.directoryUrl, '--eab', '--kid', kid, '--hmac', hmac, '--email', 'pacs-admin@hospital.test', '--accept-tos',
      '--path', legoDir, '--http', '--http.port', `127.0.0.1:${http01}`, '-d', '127.0.0.1', 'run',
    ], 100_000, { LEGO_CA_CERTIFICATES: qs.info.rootCertPath });
    expect(issued.code, issued.out).toBe(0);
    const certFile = join(legoDir, 'certificates/127.0.0.1.crt');
    const serial = await serialOf(certFile);

    // A gateway enrolled from the CLI runs the real agent, whose DICOM front has no service behind it:
    // its report reaches the overview (a failed probe) and the device page (listeners and probes).
    const gateway = await runAgentOnGateway();
    try {
      await expect
        .poll(async () => {
          await page.goto(`${info.dashboardUrl}overview`);
          return page.getByRole('region', { name: /Listeners whose probe failed/ }).textContent();
        }, { timeout: 2 * STEP_MS, interval: 1000 })
        .toContain('pacs-gw-1');
    } finally {
      await gateway.stop();
    }
    await shot(page, 'overview');
    await page.getByRole('region', { name: /Listeners whose probe failed/ }).getByRole('link', { name: 'pacs-gw-1' }).click();
    await page.getByRole('heading', { name: 'Listeners and probes' }).waitFor();
    expect(await page.getByRole('cell', { name: 'failed' }).count()).toBeGreaterThan(0);
    await shot(page, 'device');

    await page.getByRole('link', { name: 'Certificates' }).first().click();
    await page.getByLabel('Search name, serial or device').fill(serial);
    await page.getByRole('button', { name: 'Apply' }).click();
    const row = page.locator(`tr[data-serial="${serial}"]`);
    await expect.poll(() => row.count(), { timeout: STEP_MS }).toBe(1);
    await page.goto(`${info.dashboardUrl}certificates`);
    await shot(page, 'certificates');

    await page.goto(`${info.dashboardUrl}certificates?q=${serial}`);
    // By keyboard only: Enter on the row's button opens the dialog with the reason focused.
    await row.getByRole('button', { name: 'Revoke' }).press('Enter');
    const dialog = page.getByRole('dialog');
    const reason = dialog.getByLabel('Reason (RFC 5280)');
    await expect.poll(() => reason.evaluate((el) => el === document.activeElement), { timeout: STEP_MS }).toBe(true);
    await reason.selectOption({ label: 'keyCompromise' });
    await dialog.getByRole('button', { name: 'Revoke' }).press('Enter');
    await expect.poll(() => row.locator('[data-state]').textContent(), { timeout: STEP_MS }).toContain('Revoked');
    await expect.poll(() => row.getByRole('button', { name: 'Revoke' }).count(), { timeout: STEP_MS }).toBe(0);
    await page.reload();
    expect(await row.locator('[data-state]').textContent()).toContain('keyCompromise');

    const ocsp = (await exec('openssl', ['ocsp', '-issuer', join(qs.dir, 'ca/intermediate.crt.pem'), '-cert', certFile, '-url', qs.info.ocspUrl, '-CAfile', qs.info.rootCertPath])).out;
    expect(ocsp).toContain('Response verify OK');
    expect(ocsp).toContain(`${certFile}: revoked`);
    expect(ocsp).toContain('Reason: keyCompromise');
    const crlFile = join(work, 'intermediate.crl');
    await writeFile(crlFile, Buffer.from(await (await fetch(qs.info.crlUrl)).arrayBuffer()));
    const crl = (await exec('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text'])).out;
    expect(crl.toLowerCase()).toContain(serial.replace(/^0+/, ''));

    await page.goto(`${info.dashboardUrl}devices`);
    await page.getByRole('link', { name: 'ct-scanner-7' }).click();
    await page.getByRole('heading', { name: 'Certificates over time' }).waitFor();
    expect(await page.locator(`tr[data-serial="${serial}"]`).count()).toBe(1);

    expect(elsewhere).toEqual([]);
    expect(cspViolations).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').waitFor();
    await page.goto(`${info.dashboardUrl}certificates`);
    expect(await page.getByLabel('Username').count()).toBe(1);
    await context.close();
  }, TIMEOUT);

  it('viewer: sees the certificates but no revoke button, and the API answers 403 to its revoke', async () => {
    const added = await exec(process.execPath, [CA_BIN, 'user', 'add', '--data', qs.dir, '--username', 'ward-viewer', '--role', 'viewer', '--json']);
    expect(added.code, added.out).toBe(0);
    const { password } = JSON.parse(added.out) as { password: string };
    const context = await newContext();
    const page = await context.newPage();
    await login(page, 'ward-viewer', password);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.goto(`${info.dashboardUrl}certificates`);
    // The first Tab lands on the skip link, which takes keyboard users past the navigation.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const rows = page.locator('#certificates tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Audit trail' }).count()).toBe(0);
    const serial = (await rows.first().getAttribute('data-serial'))!;
    const status = await page.evaluate(async (s) => {
      const token = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
      const r = await fetch(`/admin/api/certificates/${s}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token }, body: '{"reason":1}' });
      return { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
    }, serial);
    expect(status.status).toBe(403);
    expect(status.type).toContain('application/problem+json');
    expect(status.body.type).toBe('urn:wardcert:admin:problem:forbidden');
    await context.close();
  }, TIMEOUT);
});
