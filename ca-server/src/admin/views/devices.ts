import { DEVICE_TYPES, type Device } from '../../store/index.js';
import { html, type Html } from '../html.js';

const TYPE_LABEL: Record<(typeof DEVICE_TYPES)[number], string> = {
  modality: 'Modality',
  gateway: 'Gateway',
  pacs: 'PACS',
  'interface-engine': 'Interface engine',
  other: 'Other',
};

/** The form posts to the API from app.js, which then shows the EAB credential once. */
function createForm(): Html {
  return html`
<section class="card" aria-labelledby="new-device-h">
  <h2 id="new-device-h">Enrol a device</h2>
  <form id="device-form" class="stacked">
    <p><label for="d-name">Name</label><input id="d-name" name="name" required pattern="[A-Za-z0-9_.\\-]{1,128}" maxlength="128" aria-describedby="d-name-hint"><small id="d-name-hint">Letters, digits, dot, dash, underscore, e.g. ct-scanner-2</small></p>
    <p><label for="d-type">Type</label><select id="d-type" name="type">${DEVICE_TYPES.map((t) => html`<option value="${t}">${TYPE_LABEL[t]}</option>`)}</select></p>
    <p><label for="d-department">Department</label><input id="d-department" name="department" maxlength="128"></p>
    <p><label for="d-location">Location</label><input id="d-location" name="location" maxlength="128"></p>
    <p><label for="d-identifiers">Allowed identifiers</label><textarea id="d-identifiers" name="allowedIdentifiers" rows="3" required aria-describedby="d-identifiers-hint"></textarea><small id="d-identifiers-hint">One per line: exact names, .suffix entries or CIDR blocks</small></p>
    <p><label for="d-ae">DICOM AE titles</label><input id="d-ae" name="aeTitles" maxlength="200" aria-describedby="d-ae-hint"><small id="d-ae-hint">Separated by commas; optional</small></p>
    <p class="notice error" role="alert" hidden data-error></p>
    <p class="buttons"><button type="submit" class="primary">Create device and EAB credential</button></p>
  </form>
  <div id="eab-result" class="notice ok" hidden tabindex="-1">
    <h3>EAB credential for <span data-device></span></h3>
    <p><strong>Shown once.</strong> Copy it into the agent's configuration now; it binds the first account that uses it.</p>
    <dl class="facts"><dt>kid</dt><dd><code data-kid></code></dd><dt>hmacKey</dt><dd><code data-hmac></code></dd></dl>
  </div>
</section>`;
}

export function devicesBody(o: { devices: Device[]; canOperate: boolean }): Html {
  return html`
${o.canOperate ? createForm() : ''}
<section class="card" aria-labelledby="devices-h">
  <h2 id="devices-h">Inventory <span class="count">${o.devices.length}</span></h2>
  ${o.devices.length === 0
    ? html`<p class="muted">No device is in the inventory yet.</p>`
    : html`<div class="table-wrap"><table class="data">
    <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Department</th><th scope="col">Location</th><th scope="col">Identifiers</th><th scope="col">Maintenance window</th></tr></thead>
    <tbody>${o.devices.map(
      (d) => html`<tr><th scope="row"><a href="/admin/devices/${encodeURIComponent(d.id)}">${d.name}</a></th><td>${TYPE_LABEL[d.type]}</td><td>${d.department ?? '–'}</td><td>${d.location ?? '–'}</td><td>${d.allowedIdentifiers.join(', ')}</td><td>${d.maintenanceWindow ? `${d.maintenanceWindow.days.join(', ')} ${d.maintenanceWindow.start}–${d.maintenanceWindow.end}` : '–'}</td></tr>`,
    )}</tbody>
  </table></div>`}
</section>`;
}
