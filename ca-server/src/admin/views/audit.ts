import type { AuditPage, AuditQueryParams } from '../audit-view.js';
import { AUDIT_EVENT_LABELS } from '../audit-labels.js';
import { html, type Html } from '../html.js';
import { when } from './layout.js';

const localValue = (d: Date | undefined) => (d ? d.toISOString().slice(0, 16) : '');

function query(p: AuditQueryParams, before: number): string {
  const q = new URLSearchParams();
  if (p.from) q.set('from', localValue(p.from));
  if (p.to) q.set('to', localValue(p.to));
  if (p.type) q.set('type', p.type);
  if (p.actor) q.set('actor', p.actor);
  if (p.outcome) q.set('outcome', p.outcome);
  q.set('before', String(before));
  return q.toString();
}

const detailText = (d: Record<string, unknown> | undefined) =>
  d ? Object.entries(d).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; ') : '';

export function auditBody(p: AuditQueryParams, page: AuditPage): Html {
  return html`
<form class="filters card" method="get" action="/admin/audit" role="search" aria-label="Filter the audit trail">
  <p><label for="a-from">From (UTC)</label><input id="a-from" name="from" type="datetime-local" value="${localValue(p.from)}"></p>
  <p><label for="a-to">To (UTC)</label><input id="a-to" name="to" type="datetime-local" value="${localValue(p.to)}"></p>
  <p><label for="a-type">Event type</label><select id="a-type" name="type"><option value="">Any</option>${Object.entries(AUDIT_EVENT_LABELS).map(([t, label]) => html`<option value="${t}"${p.type === t ? html` selected` : ''}>${label}</option>`)}</select></p>
  <p><label for="a-actor">Actor (name or id)</label><input id="a-actor" name="actor" value="${p.actor ?? ''}" maxlength="128"></p>
  <p><label for="a-outcome">Outcome</label><select id="a-outcome" name="outcome"><option value="">Any</option><option value="success"${p.outcome === 'success' ? html` selected` : ''}>Success</option><option value="failure"${p.outcome === 'failure' ? html` selected` : ''}>Failure</option></select></p>
  <p class="buttons"><button type="submit" class="primary">Apply</button> <a href="/admin/audit">Reset</a></p>
</form>
<div class="table-wrap">
<table class="data" id="audit">
  <caption class="visually-hidden">Audit trail entries, newest first</caption>
  <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">Actor</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Details</th></tr></thead>
  <tbody>${page.entries.map(
    (e) => html`<tr>
      <td class="num">${e.seq}</td><td><time datetime="${e.at.toISOString()}">${when(e.at)}</time></td><td><code>${e.type}</code></td>
      <td><span class="badge ${e.outcome === 'success' ? 'valid' : 'expiring-24h'}">${e.outcome}</span></td>
      <td>${e.actor.name ?? e.actor.id} <span class="muted">${e.actor.kind}</span></td><td>${e.source ?? ''}</td>
      <td>${e.subject ? html`<span class="muted">${e.subject.kind}</span> <code>${e.subject.id.slice(0, 40)}</code>` : ''}</td>
      <td class="details">${detailText(e.details)}</td>
    </tr>`,
  )}</tbody>
</table>
</div>
${page.entries.length === 0 ? html`<p class="muted">No entries match.</p>` : ''}
<nav class="pager" aria-label="Pages">${page.olderBefore ? html`<a href="/admin/audit?${query(p, page.olderBefore)}" rel="next">Older entries</a>` : ''}</nav>`;
}
