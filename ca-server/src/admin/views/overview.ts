import type { Overview } from '../overview.js';
import { html, type Html } from '../html.js';
import { relative, when } from './layout.js';
import { expiryTimeline } from './timeline.js';

const STATE_CARDS: { key: keyof Overview['counts']; label: string; tone: string }[] = [
  { key: 'valid', label: 'Valid', tone: 'ok' },
  { key: 'expiring-24h', label: 'Expiring within 24 h', tone: 'bad' },
  { key: 'expiring-7d', label: 'Expiring within 7 days', tone: 'warn' },
  { key: 'expired', label: 'Expired', tone: 'muted' },
  { key: 'revoked', label: 'Revoked', tone: 'muted' },
];


function problemList(title: string, id: string, items: Html[], empty: string): Html {
  return html`
<section class="card" aria-labelledby="${id}">
  <h2 id="${id}">${title} <span class="count">${items.length}</span></h2>
  ${items.length ? html`<ul class="problems">${items.map((i) => html`<li>${i}</li>`)}</ul>` : html`<p class="muted">${empty}</p>`}
</section>`;
}

export function overviewBody(o: Overview): Html {
  const now = new Date(o.generatedAt);
  const deviceLink = (id: string | null) =>
    id ? html`<a href="/admin/devices/${encodeURIComponent(id)}">${o.deviceNames[id] ?? id}</a>` : html`<span class="muted">no device</span>`;
  return html`
<section aria-labelledby="states-h">
  <h2 id="states-h" class="visually-hidden">Certificates by state</h2>
  <ul class="tiles">
    ${STATE_CARDS.map(
      (c) => html`<li class="tile ${c.tone}"><a href="/admin/certificates?state=${c.key}"><span class="n">${o.counts[c.key]}</span><span class="l">${c.label}</span></a></li>`,
    )}
  </ul>
</section>
<section class="card" aria-labelledby="timeline-h">
  <h2 id="timeline-h">Upcoming expiries</h2>
  ${expiryTimeline(o.timeline.buckets, o.timeline.bucketHours)}
</section>
<div class="grid2">
  ${problemList(
    'Renewals failing',
    'failing-h',
    [
      ...o.failingRenewals.agents.map((a) => html`${deviceLink(a.deviceId)}: <span class="error-text">${a.lastError}</span> <span class="muted">(reported ${relative(new Date(a.receivedAt), now)})</span>`),
      ...o.failingRenewals.overdue.map(
        (c) => html`<a href="/admin/certificates?q=${c.serial}">${c.identifiers[0]?.value ?? c.serial}</a> is past its renewal window and not replaced; expires ${relative(c.notAfter, now)} ${c.deviceId ? html`(${deviceLink(c.deviceId)})` : ''}`,
      ),
    ],
    'No renewal is failing.',
  )}
  ${problemList(
    'Agents that stopped reporting',
    'silent-h',
    o.silentAgents.map((a) => html`${deviceLink(a.deviceId)}: last report ${when(a.receivedAt)} (${relative(new Date(a.receivedAt), now)})`),
    'Every agent reported recently.',
  )}
  ${problemList(
    'Listeners whose probe failed',
    'probes-h',
    o.failedProbes.map((a) => html`${deviceLink(a.deviceId)}: ${a.failedListeners.join(', ')}`),
    'Every probed listener answered.',
  )}
</div>
<p class="muted small">As of ${when(o.generatedAt)}.</p>`;
}
