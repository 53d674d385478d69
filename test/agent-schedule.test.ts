import { describe, expect, it } from 'vitest';
import {
  agingWarningDue,
  ariRecheckMs,
  backoffMs,
  DEFAULT_ARI_RECHECK_MS,
  nextWakeMs,
  renewalTime,
  tooYoungToRenew,
} from '../agent/src/schedule/when.js';

/** The agent's timing rules: when to renew, when to ask the CA again, how to back off, when to warn. */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t0 = new Date('2026-12-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const cert = { notBefore: t0, notAfter: at(72 * HOUR) };

describe('when the agent renews and checks', () => {
  it('draws a moment inside the ARI window, spread by the random draw, never before now', () => {
    const window = { start: at(48 * HOUR), end: at(54 * HOUR) };
    expect(renewalTime(cert, window, t0, () => 0)).toEqual(window.start);
    expect(renewalTime(cert, window, t0, () => 0.5)).toEqual(at(51 * HOUR));
    expect(renewalTime(cert, window, t0, () => 0.999).getTime()).toBeLessThan(window.end.getTime());
    const past = { start: at(-2 * HOUR), end: at(-HOUR) };
    expect(renewalTime(cert, past, at(HOUR), () => 0.5)).toEqual(at(HOUR)); // a window already past: now
  });

  it('falls back to two thirds of the lifetime without a window (or with a nonsense one)', () => {
    expect(renewalTime(cert, undefined, t0)).toEqual(at(48 * HOUR));
    expect(renewalTime(cert, { start: at(50 * HOUR), end: at(49 * HOUR) }, t0)).toEqual(at(48 * HOUR));
  });

  it('holds back a certificate younger than a tenth of its life', () => {
    expect(tooYoungToRenew(cert, at(7 * HOUR))).toBe(true);
    expect(tooYoungToRenew(cert, at(7.3 * HOUR))).toBe(false);
  });

  it('asks for the window again as Retry-After says, between a minute and a day, six hours when it is missing', () => {
    expect(ariRecheckMs(3 * HOUR)).toBe(3 * HOUR);
    expect(ariRecheckMs(0)).toBe(60_000);
    expect(ariRecheckMs(30 * DAY)).toBe(DAY);
    expect(ariRecheckMs(undefined)).toBe(DEFAULT_ARI_RECHECK_MS);
    expect(DEFAULT_ARI_RECHECK_MS).toBe(6 * HOUR);
  });

  it('wakes at the renewal moment or the next ARI poll, whichever is first, and never spins on a moment already past', () => {
    expect(nextWakeMs(at(48 * HOUR), at(3 * HOUR), t0)).toBe(3 * HOUR);
    expect(nextWakeMs(at(2 * HOUR), at(3 * HOUR), t0)).toBe(2 * HOUR);
    expect(nextWakeMs(at(-HOUR), at(3 * HOUR), t0)).toBe(3 * HOUR); // held back by the loop guard: wait for the next poll
    expect(nextWakeMs(at(-HOUR), undefined, t0)).toBe(60_000);
    expect(nextWakeMs(at(10), undefined, t0)).toBe(1000);
  });

  it('backs off exponentially with jitter after failures, capped at an hour', () => {
    expect(backoffMs(1, () => 0)).toBe(15_000);
    expect(backoffMs(1, () => 1)).toBe(30_000);
    expect(backoffMs(3, () => 0)).toBe(60_000);
    expect(backoffMs(3, () => 1)).toBe(120_000);
    expect(backoffMs(30, () => 1)).toBe(HOUR);
    const draws = new Set(Array.from({ length: 20 }, () => backoffMs(4)));
    expect(draws.size).toBeGreaterThan(1); // two devices failing together do not retry together
  });

  it('warns from one third of the lifetime left, once a day', () => {
    expect(agingWarningDue(cert, at(47 * HOUR), undefined)).toBe(false);
    expect(agingWarningDue(cert, at(48 * HOUR), undefined)).toBe(true);
    expect(agingWarningDue(cert, at(60 * HOUR), at(48 * HOUR))).toBe(false);
    expect(agingWarningDue(cert, at(72 * HOUR), at(48 * HOUR))).toBe(true);
    expect(agingWarningDue(cert, at(80 * HOUR), at(72 * HOUR))).toBe(false); // expired: still once a day
  });
});
