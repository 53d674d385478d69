import { REVOCATION_REASONS } from '../../ca/revoke.js';
import { CERTIFICATE_STATES, type CertificateState, type CertificateSummary } from '../../store/index.js';
import { stateOf } from '../certificate-json.js';
import { toQueryString, type CertificateQueryParams } from '../certificate-query.js';
import { html, type Html } from '../html.js';
import { relative, shortWhen } from './layout.js';

export const STATE_LABEL: Record<CertificateState, string> = {
  valid: 'Valid',
  'expiring-24h': 'Expiring < 24 h',
  'expiring-7d': 'Expiring < 7 days',
  expired: 'Expired',
  revoked: 'Revoked',
};

const SORT_LABEL = { expiry: 'Expiry', issued: 'Issued', device: 'Device', name: 'Name' } as const;

export const stateBadge = (s: CertificateState) => html`<span class="badge ${s}">${STATE_LABEL[s]}</span>`;

const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;

export function certificateName(c: CertificateSummary): string {
  return c.identifiers[0]?.value ?? c.subject.replace(/^CN=/, '');
}

/** The revoke dialog: one per page, opened by a row's Revoke button (app.js). */
export function revokeDialog(): Html {
  return html`
<dialog id="revoke-dialog" aria-labelledby="revoke-title">
  <form method="dialog" id="revoke-form">
    <h2 id="revoke-title">Revoke <span data-name></span></h2>
    <p>Serial <code data-serial></code>. Revocation cannot be undone; the CRL and OCSP say so at once.</p>
    <p>
      <label for="revoke-reason">Reason (RFC 5280)</label>
      <select id="revoke-reason" name="reason" required>
        ${Object.entries(REVOCATION_REASONS).map(([code, name]) => option(code, name, code === '0'))}
      </select>
    </p>
    <p class="notice error" role="alert" hidden data-error></p>
    <p class="buttons">
      <button type="submit" value="confirm" class="danger">Revoke</button>
      <button type="button" value="cancel" data-close>Cancel</button>
    </p>
  </form>
</dialog>`;
}

/** Inventory names of the devices a page of certificates names, by device id. */
export type DeviceNames = ReadonlyMap<string, string>;

export function certificateRows(items: CertificateSummary[], now: Date, canOperate: boolean, deviceNames?: DeviceNames): Html {
  return html`${items.map((c) => {
    const state = stateOf(c, now);
    const name = certificateName(c);
    return html`<tr data-serial="${c.serial}">
      ${canOperate ? html`<td><input type="checkbox" name="serial" value="${c.serial}" aria-label="Select ${name}"${c.status !== 'valid' ? html` disabled` : ''}></td>` : ''}
      <th scope="row"><span class="name">${name}</span>${c.identifiers.length > 1 ? html` <span class="muted">+${c.identifiers.length - 1}</span>` : ''}<br><code class="serial" title="${c.serial}">${c.serial.slice(0, 16)}${c.serial.length > 16 ? '…' : ''}</code></th>
      ${deviceNames ? html`<td class="nowrap">${c.deviceId ? html`<a href="/admin/devices/${encodeURIComponent(c.deviceId)}">${deviceNames.get(c.deviceId) ?? c.deviceId}</a>` : html`<span class="muted">–</span>`}</td>` : ''}
      <td class="nowrap">${c.profile}</td>
      <td data-state>${stateBadge(state)}${c.revocationReason !== null ? html` <span class="muted">${REVOCATION_REASONS[c.revocationReason]}</span>` : ''}</td>
      <td><time datetime="${c.notAfter.toISOString()}">${shortWhen(c.notAfter)}</time><br><span class="muted small">${relative(c.notAfter, now)}</span></td>
      <td><time datetime="${c.issuedAt.toISOString()}">${shortWhen(c.issuedAt)}</time></td>
      ${canOperate ? html`<td>${c.status === 'valid' ? html`<button type="button" class="small danger" data-revoke="${c.serial}" data-name="${name}">Revoke</button>` : ''}</td>` : ''}
    </tr>`;
  })}`;
}

export function certificateHead(canOperate: boolean, withDevice = true): Html {
  return html`<tr>
    ${canOperate ? html`<th scope="col"><span class="visually-hidden">Select</span></th>` : ''}
    <th scope="col">Name and serial</th>${withDevice ? html`<th scope="col">Device</th>` : ''}<th scope="col">Profile</th>
    <th scope="col">State</th><th scope="col">Expires (UTC)</th><th scope="col">Issued (UTC)</th>
    ${canOperate ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}
  </tr>`;
}

export function certificatesBody(o: {
  params: CertificateQueryParams;
  total: number;
  items: CertificateSummary[];
  now: Date;
  canOperate: boolean;
  profiles: string[];
  deviceNames: DeviceNames;
}): Html {
  const { params: p } = o;
  const pages = Math.max(1, Math.ceil(o.total / p.size));
  const first = o.total === 0 ? 0 : (p.page - 1) * p.size + 1;
  const last = Math.min(o.total, p.page * p.size);
  return html`
<form class="filters card" method="get" action="/admin/certificates" role="search" aria-label="Filter certificates">
  <p><label for="f-q">Search name, serial or device</label><input id="f-q" name="q" type="search" value="${p.q ?? ''}" maxlength="128"></p>
  <p><label for="f-state">State</label><select id="f-state" name="state">${option('', 'Any', !p.state)}${CERTIFICATE_STATES.map((s) => option(s, STATE_LABEL[s], p.state === s))}</select></p>
  <p><label for="f-profile">Profile</label><select id="f-profile" name="profile">${option('', 'Any', !p.profile)}${o.profiles.map((n) => option(n, n, p.profile === n))}</select></p>
  <p><label for="f-device">Device</label><input id="f-device" name="device" type="text" value="${p.device ?? ''}" maxlength="128"></p>
  <p><label for="f-sort">Sort by</label><select id="f-sort" name="sort">${Object.entries(SORT_LABEL).map(([k, l]) => option(k, l, p.sort === k))}</select></p>
  <p><label for="f-order">Order</label><select id="f-order" name="order">${option('asc', 'Ascending', p.order === 'asc')}${option('desc', 'Descending', p.order === 'desc')}</select></p>
  <p class="buttons"><button type="submit" class="primary">Apply</button> <a href="/admin/certificates">Reset</a></p>
</form>
<div class="toolbar">
  <p id="list-summary" aria-live="polite">${o.total === 0 ? 'No certificates match.' : `Showing ${first}–${last} of ${o.total} certificates.`}</p>
  <p class="buttons">
    <a class="button" href="/admin/api/certificates.csv?${toQueryString(p)}" download>Export CSV</a>
    ${o.canOperate ? html`<button type="button" id="renew-selected" disabled>Renew selected now</button>` : ''}
  </p>
</div>
<p class="notice" role="status" hidden id="action-status"></p>
<div class="table-wrap">
<table class="data" id="certificates" aria-describedby="list-summary">
  <caption class="visually-hidden">Certificates, sorted by ${SORT_LABEL[p.sort]} ${p.order === 'asc' ? 'ascending' : 'descending'}</caption>
  <thead>${certificateHead(o.canOperate)}</thead>
  <tbody>${certificateRows(o.items, o.now, o.canOperate, o.deviceNames)}</tbody>
</table>
</div>
<nav class="pager" aria-label="Pages">
  ${p.page > 1 ? html`<a href="/admin/certificates?${toQueryString(p, { page: p.page - 1 })}" rel="prev">Previous page</a>` : ''}
  <span>Page ${p.page} of ${pages}</span>
  ${p.page < pages ? html`<a href="/admin/certificates?${toQueryString(p, { page: p.page + 1 })}" rel="next">Next page</a>` : ''}
</nav>
${o.canOperate ? revokeDialog() : ''}`;
}
