import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { renewalWindow } from '../src/acme/renewal-info.js';
import { parseMaintenanceWindow, windowOccurrences } from '../src/policy/maintenance-window.js';
import type { CertificateRecord, MaintenanceWindow } from '../src/store/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BERLIN = 'Europe/Berlin';

function cert(serial: string, notBefore: Date, lifeMs: number, extra: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    serial,
    profile: 'dicom-node',
    subject: 'CN=ct2.hospital.test',
    identifiers: [{ type: 'dns', value: 'ct2.hospital.test' }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + lifeMs),
    der: new Uint8Array(),
    issuerKeyId: 'aa',
    spkiSha256: 'bb',
    issuedAt: notBefore,
    status: 'valid',
    revokedAt: null,
    revocationReason: null,
    renewBy: null,
    ...extra,
  };
}

const berlin = (iso: string) => DateTime.fromISO(iso, { zone: BERLIN }).toJSDate();
const local = (d: Date) => DateTime.fromJSDate(d, { zone: BERLIN });
const serials = (n: number) => Array.from({ length: n }, (_, i) => (0x1000 + i * 7919).toString(16));

/** True when [start, end] lies inside one occurrence of the window. */
function insideOccurrence(w: MaintenanceWindow, win: { start: Date; end: Date }): boolean {
  return windowOccurrences(w, win.start.getTime() - 2 * DAY, win.end.getTime() + 2 * DAY).some((o) => o.start <= win.start.getTime() && win.end.getTime() <= o.end);
}

describe('maintenance windows', () => {
  it('reads the short form, with day ranges that wrap around the week', () => {
    expect(parseMaintenanceWindow('Mon-Fri 12:00-14:00', BERLIN)).toEqual({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '12:00', end: '14:00', timeZone: BERLIN });
    expect(parseMaintenanceWindow('Fri-Mon 22:00-02:00', BERLIN).days).toEqual(['mon', 'fri', 'sat', 'sun']);
    expect(parseMaintenanceWindow('sat,sun 06:00-09:00', 'UTC').days).toEqual(['sat', 'sun']);
  });

  it('refuses what it cannot read, naming the part', () => {
    expect(() => parseMaintenanceWindow('Mon-Fri', BERLIN)).toThrow(/expected DAYS HH:MM-HH:MM/);
    expect(() => parseMaintenanceWindow('Mon-Xyz 12:00-14:00', BERLIN)).toThrow(/"mon-xyz" is not a day/);
    expect(() => parseMaintenanceWindow('Mon 24:00-02:00', BERLIN)).toThrow(/start: a time as HH:MM/);
    expect(() => parseMaintenanceWindow('Mon 12:00-12:00', BERLIN)).toThrow(/start and end must differ/);
    expect(() => parseMaintenanceWindow('Mon 12:00-13:00', 'Mars/Olympus')).toThrow(/IANA time zone/);
  });

  it('follows the hospital clock across DST: a night window on the spring-forward night is an hour shorter', () => {
    const w = parseMaintenanceWindow('Sat,Sun 01:00-04:00', BERLIN);
    // 2027-03-28 (Sunday) Berlin moves from 02:00 CET to 03:00 CEST.
    const [sat, sun] = windowOccurrences(w, berlin('2027-03-27T00:00').getTime(), berlin('2027-03-29T00:00').getTime());
    expect(sat!.end - sat!.start).toBe(3 * HOUR);
    expect(sun!.end - sun!.start).toBe(2 * HOUR);
    expect(new Date(sun!.start).toISOString()).toBe('2027-03-28T00:00:00.000Z'); // 01:00 CET
    expect(new Date(sun!.end).toISOString()).toBe('2027-03-28T02:00:00.000Z'); // 04:00 CEST
  });

  it('starts a window that opens inside the spring-forward gap at the first minute after it', () => {
    const w = parseMaintenanceWindow('Sun 02:30-05:00', BERLIN);
    const [occ] = windowOccurrences(w, berlin('2027-03-28T00:00').getTime(), berlin('2027-03-29T00:00').getTime());
    expect(local(new Date(occ!.start)).toFormat('HH:mm')).toBe('03:30');
    expect(local(new Date(occ!.end)).toFormat('HH:mm')).toBe('05:00');
  });
});

describe('ARI around clinical schedules', () => {
  const weekdayNoon = parseMaintenanceWindow('Mon-Fri 12:00-14:00', BERLIN);

  it('places the window inside an occurrence that lies in the useful part of the lifetime', () => {
    // 72 h from Monday 08:00 local: occurrences between 36 h and 60 h are Tuesday and Wednesday noon.
    const c = cert('0a1b2c', berlin('2027-01-04T08:00'), 72 * HOUR);
    const w = renewalWindow(c, berlin('2027-01-04T09:00'), weekdayNoon);
    expect(insideOccurrence(weekdayNoon, w)).toBe(true);
    expect(w.end.getTime() - w.start.getTime()).toBe(30 * 60_000); // a quarter of the two hours
    expect(w.start.getTime()).toBeGreaterThanOrEqual(c.notBefore.getTime() + 36 * HOUR);
    expect(w.end.getTime()).toBeLessThanOrEqual(c.notAfter.getTime() - 12 * HOUR);
    expect(['Tue', 'Wed']).toContain(local(w.start).toFormat('ccc'));
  });

  it('handles a window across midnight', () => {
    const night = parseMaintenanceWindow('Mon-Sun 22:00-02:00', BERLIN);
    for (const serial of serials(50)) {
      const w = renewalWindow(cert(serial, berlin('2027-01-04T08:00'), 72 * HOUR), berlin('2027-01-04T09:00'), night);
      expect(insideOccurrence(night, w), `${serial}: ${w.start.toISOString()}`).toBe(true);
      const startHour = local(w.start).hour;
      expect(startHour >= 22 || startHour < 2).toBe(true);
    }
  });

  it('stays inside the window across the autumn DST change (a 25-hour day)', () => {
    const early = parseMaintenanceWindow('Mon-Sun 05:00-07:00', BERLIN);
    // Berlin leaves CEST on 2027-10-31; a 7-day certificate from the 27th spans it.
    for (const serial of serials(40)) {
      const w = renewalWindow(cert(serial, berlin('2027-10-27T10:00'), 7 * DAY), berlin('2027-10-27T10:00'), early);
      const from = local(w.start);
      const to = local(w.end);
      expect(from.hour * 60 + from.minute).toBeGreaterThanOrEqual(5 * 60);
      expect(to.hour * 60 + to.minute).toBeLessThanOrEqual(7 * 60);
    }
  });

  it('falls back to the plain spread when the lifetime is too short for any occurrence', () => {
    const c = cert('beef', berlin('2027-01-04T15:00'), 6 * HOUR); // useful part 18:00-20:00, no noon in it
    const plain = renewalWindow(c, berlin('2027-01-04T15:00'));
    expect(renewalWindow(c, berlin('2027-01-04T15:00'), weekdayNoon)).toEqual(plain);
    expect(plain.start.getTime()).toBeGreaterThanOrEqual(c.notBefore.getTime() + 4 * HOUR);
  });

  it('falls back to the plain spread when the only occurrences fall on days the window leaves out', () => {
    // Friday 20:00 + 72 h: the useful part is Saturday and Sunday only.
    const c = cert('cafe', berlin('2027-01-08T20:00'), 72 * HOUR);
    expect(renewalWindow(c, berlin('2027-01-08T20:00'), weekdayNoon)).toEqual(renewalWindow(c, berlin('2027-01-08T20:00')));
  });

  it('spreads many certificates over the days and minutes of the window', () => {
    const daily = parseMaintenanceWindow('Mon-Sun 12:00-14:00', BERLIN);
    const issued = berlin('2027-01-04T08:00');
    const windows = serials(400).map((s) => renewalWindow(cert(s, issued, 30 * DAY), issued, daily));
    for (const w of windows) expect(insideOccurrence(daily, w)).toBe(true);
    const days = new Set(windows.map((w) => local(w.start).toISODate()));
    const minutes = new Set(windows.map((w) => Math.floor(w.start.getTime() / 60_000)));
    expect(days.size).toBeGreaterThanOrEqual(8); // the useful part holds about ten noons
    expect(minutes.size).toBeGreaterThanOrEqual(300);
    // No minute draws more than a handful of the 400.
    const perMinute = new Map<number, number>();
    for (const w of windows) perMinute.set(Math.floor(w.start.getTime() / 60_000), (perMinute.get(Math.floor(w.start.getTime() / 60_000)) ?? 0) + 1);
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(4);
  });

  it('keeps a certificate on the same window from poll to poll, and moves on when that occurrence has passed', () => {
    const daily = parseMaintenanceWindow('Mon-Sun 12:00-14:00', BERLIN);
    const c = cert('7e57', berlin('2027-01-04T08:00'), 30 * DAY);
    const first = renewalWindow(c, berlin('2027-01-04T09:00'), daily);
    expect(renewalWindow(c, berlin('2027-01-10T09:00'), daily)).toEqual(first);
    // Missed its slot while the window is still open: renew at once, which is still inside it.
    const missed = renewalWindow(c, new Date(first.end.getTime() + 60_000), daily);
    expect(missed).toEqual(first);
    const occurrence = windowOccurrences(daily, first.start.getTime() - DAY, first.end.getTime() + DAY).find((o) => o.start <= first.start.getTime() && first.end.getTime() <= o.end)!;
    const afterIt = new Date(occurrence.end + 60_000);
    const next = renewalWindow(c, afterIt, daily);
    expect(next.start.getTime()).toBeGreaterThan(afterIt.getTime());
    expect(insideOccurrence(daily, next)).toBe(true);
  });

  it('renew-now and revocation still win over the maintenance window', () => {
    const now = berlin('2027-01-05T09:00');
    const renewNow = renewalWindow(cert('01', berlin('2027-01-04T08:00'), 72 * HOUR, { renewBy: new Date(now.getTime() - 1000) }), now, weekdayNoon);
    expect(renewNow.end.getTime()).toBeLessThanOrEqual(now.getTime());
    const revoked = renewalWindow(cert('02', berlin('2027-01-04T08:00'), 72 * HOUR, { status: 'revoked', revokedAt: now, revocationReason: 1 }), now, weekdayNoon);
    expect(revoked.end.getTime()).toBeLessThanOrEqual(now.getTime());
  });

  it('without a window, the plain spread between two thirds and five sixths of the lifetime', () => {
    const c = cert('abcdef', new Date('2027-01-04T00:00:00Z'), 72 * HOUR);
    const w = renewalWindow(c, c.notBefore);
    expect(w.start.getTime()).toBeGreaterThanOrEqual(c.notBefore.getTime() + 48 * HOUR);
    expect(w.end.getTime()).toBeLessThanOrEqual(c.notBefore.getTime() + 60 * HOUR);
    expect(w.end.getTime() - w.start.getTime()).toBe(6 * HOUR);
  });
});
