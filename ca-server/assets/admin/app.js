// Wardcert dashboard: the interactive parts (revoke, renew-now, enrol a device). Everything else is
// plain HTML from the server. Served by the CA itself; nothing is fetched from anywhere else.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

/** A JSON call to the admin API with the session's CSRF token; throws the problem's detail. */
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken, Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail ?? `the server answered ${response.status}`);
  return data;
}

function say(text, tone = 'ok') {
  const status = document.getElementById('action-status');
  if (!status) return;
  status.textContent = text;
  status.className = `notice ${tone}`;
  status.hidden = false;
}

function setupRevoke() {
  const dialog = document.getElementById('revoke-dialog');
  if (!dialog) return;
  const form = dialog.querySelector('form');
  const error = dialog.querySelector('[data-error]');
  let serial = null;
  let opener = null;
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-revoke]');
    if (!button) return;
    serial = button.dataset.revoke;
    opener = button;
    dialog.querySelector('[data-serial]').textContent = serial;
    dialog.querySelector('[data-name]').textContent = button.dataset.name;
    error.hidden = true;
    dialog.showModal();
    dialog.querySelector('select').focus();
  });
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => opener?.focus());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = Number(form.elements.reason.value);
    try {
      const cert = await api('POST', `/admin/api/certificates/${serial}/revoke`, { reason });
      const row = document.querySelector(`tr[data-serial="${serial}"]`);
      if (row) {
        row.querySelector('[data-state]').innerHTML = '';
        const badge = document.createElement('span');
        badge.className = 'badge revoked';
        badge.textContent = 'Revoked';
        const why = document.createElement('span');
        why.className = 'muted';
        why.textContent = ` ${cert.revocationReason}`;
        row.querySelector('[data-state]').append(badge, why);
        const checkbox = row.querySelector('input[type="checkbox"]');
        if (checkbox) checkbox.disabled = checkbox.checked = false;
        opener = document.querySelector('main');
        row.querySelector('[data-revoke]')?.remove();
      }
      dialog.close();
      say(`Certificate ${serial} is revoked (${cert.revocationReason}); the CRL and OCSP say so now.`);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

function setupRenewNow() {
  const button = document.getElementById('renew-selected');
  const table = document.getElementById('certificates');
  if (!button || !table) return;
  const selected = () => [...table.querySelectorAll('input[name="serial"]:checked')].map((c) => c.value);
  table.addEventListener('change', () => {
    const n = selected().length;
    button.disabled = n === 0;
    button.textContent = n ? `Renew ${n} selected now` : 'Renew selected now';
  });
  button.addEventListener('click', async () => {
    try {
      const { renewing } = await api('POST', '/admin/api/renew-now', { serials: selected() });
      say(`${renewing} certificate(s) told to renew; their agents renew at their next renewal check.`);
    } catch (err) {
      say(err.message, 'error');
    }
  });
}

function setupDeviceForm() {
  const form = document.getElementById('device-form');
  if (!form) return;
  const error = form.querySelector('[data-error]');
  const result = document.getElementById('eab-result');
  const list = (text, separator) => text.split(separator).map((s) => s.trim()).filter(Boolean);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = {
      name: f.name.value.trim(),
      type: f.type.value,
      department: f.department.value.trim() || null,
      location: f.location.value.trim() || null,
      allowedIdentifiers: list(f.allowedIdentifiers.value, /\n/),
      aeTitles: list(f.aeTitles.value, ','),
    };
    try {
      const created = await api('POST', '/admin/api/devices', body);
      error.hidden = true;
      result.querySelector('[data-device]').textContent = created.device.name;
      result.querySelector('[data-kid]').textContent = created.eab.kid;
      result.querySelector('[data-hmac]').textContent = created.eab.hmacKey;
      result.hidden = false;
      result.focus();
      form.reset();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

setupRevoke();
setupRenewNow();
setupDeviceForm();
