import { stateOf } from '../certificate-json.js';
import type { DeviceDetails } from '../../policy/devices.js';
import type { CertificateSummary } from '../../store/index.js';
import { summaryOf } from '../api/certificates.js';
import { html, type Html } from '../html.js';
import { certificateHead, certificateName, certificateRows, revokeDialog } from './certificates.js';
import { relative, when } from './layout.js';

const WIDTH = 720;
const ROW = 22;
const LEFT = 170;

interface ReportShape {
  certificate: { serial: string; notAfter: string } | null;
  nextRenewal: string | null;
  listeners: { kind: string; listen: string; ok: boolean | null; servedSerial: string | null }[];
  lastError: string | null;
  agentVersion: string;
  updatedAt: string;
}

/** Each certificate as a bar from notBefore to notAfter on one time axis, with a line at now. */
function historyChart(all: CertificateSummary[], now: Date): Html {
  const certs = all.slice(0, 30).reverse();
  if (certs.length === 0) return html``;
  const from = Math.min(...certs.map((c) => c.notBefore.getTime()));
  const to = Math.max(now.getTime(), ...certs.map((c) => c.notAfter.getTime()));
  const x = (t: number) => LEFT + ((t - from) / Math.max(1, to - from)) * (WIDTH - LEFT - 10);
  const top = 18;
  const height = top + certs.length * ROW + 26;
  return html`
<svg viewBox="0 0 ${WIDTH} ${height}" class="chart history" role="img" aria-labelledby="history-title">
  <title id="history-title">Validity of this device's last ${certs.length} certificates, oldest at the top; the vertical line is now</title>
  ${certs.map((c, i) => {
    const y = top + i * ROW;
    return html`<text class="axis" x="4" y="${y + 13}">${c.serial.slice(0, 8)}… ${certificateName(c).slice(0, 14)}</text><rect class="span ${stateOf(c, now)}" x="${x(c.notBefore.getTime()).toFixed(1)}" y="${y}" width="${Math.max(2, x(c.notAfter.getTime()) - x(c.notBefore.getTime())).toFixed(1)}" height="${ROW - 8}" rx="3"><title>${c.serial}: ${when(c.notBefore)} to ${when(c.notAfter)}</title></rect>`;
  })}
  <line class="now" x1="${x(now.getTime()).toFixed(1)}" x2="${x(now.getTime()).toFixed(1)}" y1="${top - 4}" y2="${height - 22}"></line>
  <text class="axis" x="${x(now.getTime()).toFixed(1)}" y="${top - 7}" text-anchor="middle">now</text>
  <text class="axis" x="${LEFT}" y="${height - 6}">${when(new Date(from))}</text>
  <text class="axis" x="${WIDTH - 10}" y="${height - 6}" text-anchor="end">${when(new Date(to))}</text>
</svg>`;
}

function reportSection(v: DeviceDetails, now: Date): Html {
  if (!v.agentReport) return html`<p class="muted">No agent has reported for this device. Devices without the Wardcert agent renew on their own schedule.</p>`;
  const r = v.agentReport.report as unknown as ReportShape;
  return html`
<dl class="facts">
  <dt>Received</dt><dd>${when(v.agentReport.receivedAt)} <span class="muted">${relative(v.agentReport.receivedAt, now)}</span>${v.agentReport.remoteAddress ? html` from ${v.agentReport.remoteAddress}` : ''}</dd>
  <dt>Agent version</dt><dd>${r.agentVersion}</dd>
  <dt>Serving</dt><dd>${r.certificate ? html`<code>${r.certificate.serial}</code>, expires ${when(r.certificate.notAfter)}` : 'no certificate'}</dd>
  <dt>Next renewal</dt><dd>${r.nextRenewal ? when(r.nextRenewal) : '–'}</dd>
  <dt>Last error</dt><dd>${r.lastError ? html`<span class="error-text">${r.lastError}</span>` : 'none'}</dd>
</dl>
<h3>Listeners and probes</h3>
${r.listeners.length === 0
    ? html`<p class="muted">This agent runs no TLS listeners.</p>`
    : html`<div class="table-wrap"><table class="data compact">
  <thead><tr><th scope="col">Kind</th><th scope="col">Listens on</th><th scope="col">Probe</th><th scope="col">Serves</th></tr></thead>
  <tbody>${r.listeners.map(
    (l) => html`<tr><td>${l.kind.toUpperCase()}</td><td><code>${l.listen}</code></td><td>${l.ok === null ? html`<span class="badge expired">not probed</span>` : l.ok ? html`<span class="badge valid">answered</span>` : html`<span class="badge expiring-24h">failed</span>`}</td><td>${l.servedSerial ? html`<code>${l.servedSerial.slice(0, 12)}…</code>${r.certificate && l.servedSerial !== r.certificate.serial ? html` <span class="error-text">(not the current certificate)</span>` : ''}` : '–'}</td></tr>`,
  )}</tbody>
</table></div>`}`;
}

function inventorySection(d: DeviceDetails['device']): Html {
  const w = d.maintenanceWindow;
  return html`
<dl class="facts">
  <dt>Type</dt><dd>${d.type}</dd>
  <dt>Department</dt><dd>${d.department ?? '–'}</dd>
  <dt>Location</dt><dd>${d.location ?? '–'}</dd>
  <dt>DICOM AE titles</dt><dd>${d.aeTitles.length ? d.aeTitles.join(', ') : '–'}</dd>
  <dt>HL7 application / facility</dt><dd>${d.hl7Application ?? '–'} / ${d.hl7Facility ?? '–'}</dd>
  <dt>Allowed identifiers</dt><dd>${d.allowedIdentifiers.length ? d.allowedIdentifiers.map((i) => html`<code>${i}</code> `) : 'server policy only'}</dd>
  <dt>Maintenance window</dt><dd>${w ? `${w.days.join(', ')} ${w.start}–${w.end} (${w.timeZone})` : 'none: renews whenever due'}</dd>
</dl>`;
}

export function deviceBody(v: DeviceDetails, canOperate: boolean, now: Date): Html {
  const certificates = v.certificates.map(summaryOf);
  return html`
<div class="grid2">
  <section class="card" aria-labelledby="inv-h"><h2 id="inv-h">Inventory</h2>${inventorySection(v.device)}</section>
  <section class="card" aria-labelledby="agent-h"><h2 id="agent-h">Agent's last report</h2>${reportSection(v, now)}</section>
</div>
<section class="card" aria-labelledby="history-h">
  <h2 id="history-h">Certificates over time</h2>
  ${historyChart(certificates, now)}
  <p class="notice" role="status" hidden id="action-status"></p>
  ${certificates.length
    ? html`<div class="table-wrap"><table class="data" id="certificates">
    <caption class="visually-hidden">Certificates of this device, newest first</caption>
    <thead>${certificateHead(canOperate, false)}</thead>
    <tbody>${certificateRows(certificates, now, canOperate)}</tbody>
  </table></div>`
    : html`<p class="muted">No certificate has been issued to this device yet.</p>`}
</section>
${canOperate ? revokeDialog() : ''}`;
}
