import type { ExpiryBucket } from '../../store/index.js';
import { html, type Html } from '../html.js';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 16, right: 12, bottom: 40, left: 40 };
const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const label = (d: Date) => `${WEEKDAY[d.getUTCDay()]} ${String(d.getUTCDate()).padStart(2, '0')} ${String(d.getUTCHours()).padStart(2, '0')}:00`;

/** A round number at or above the largest bar, so the axis reads 0, 5, 10 rather than 0, 3.5, 7. */
function niceMax(max: number): number {
  if (max <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

/**
 * Upcoming expiries as an SVG bar chart made here on the server (no chart library, nothing fetched),
 * with a title and description for screen readers and the same numbers as a table.
 */
export function expiryTimeline(buckets: ExpiryBucket[], bucketHours: number): Html {
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.count)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const barW = plotW / Math.max(1, buckets.length);
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const ticks = max % 2 === 0 ? [0, max / 2, max] : [0, max];
  const end = (b: ExpiryBucket) => new Date(b.start.getTime() + bucketHours * 3_600_000);
  return html`
<figure class="timeline">
  <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="timeline-title timeline-desc" class="chart">
    <title id="timeline-title">Certificates expiring in the next ${buckets.length * bucketHours / 24} days</title>
    <desc id="timeline-desc">${total} certificates expire in this period, shown in ${bucketHours}-hour bars. The table below has the same numbers.</desc>
    ${ticks.map((t) => html`<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(t)}" y2="${y(t)}"></line><text class="axis" x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`)}
    ${buckets.map((b, i) => {
      const h = PAD.top + plotH - y(b.count);
      return html`<rect class="bar${i < 24 / bucketHours ? ' soon' : ''}" x="${(PAD.left + i * barW + 1).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}"><title>${label(b.start)} to ${label(end(b))} UTC: ${b.count}</title></rect>${
        b.count > 0 ? html`<text class="value" x="${(PAD.left + (i + 0.5) * barW).toFixed(1)}" y="${(y(b.count) - 3).toFixed(1)}" text-anchor="middle">${b.count}</text>` : ''
      }`;
    })}
    ${buckets.map((b, i) =>
      // A label where a day starts, and at the first bar unless a day starts right after it.
      b.start.getUTCHours() < bucketHours || (i === 0 && buckets[1] && buckets[1].start.getUTCHours() >= bucketHours * 2)
        ? html`<text class="axis" x="${(PAD.left + i * barW).toFixed(1)}" y="${HEIGHT - PAD.bottom + 16}">${WEEKDAY[b.start.getUTCDay()]} ${b.start.getUTCDate()}</text>`
        : '',
    )}
    <text class="axis" x="${PAD.left}" y="${HEIGHT - 6}">UTC; darker bars: the next 24 hours</text>
  </svg>
  <details>
    <summary>The same as a table</summary>
    <table class="data compact">
      <caption>Certificates expiring per ${bucketHours}-hour period (UTC)</caption>
      <thead><tr><th scope="col">From</th><th scope="col">To</th><th scope="col" class="num">Expiring</th></tr></thead>
      <tbody>${buckets.map((b) => html`<tr><td>${label(b.start)}</td><td>${label(end(b))}</td><td class="num">${b.count}</td></tr>`)}</tbody>
    </table>
  </details>
</figure>`;
}
