import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { WEEKDAYS, type MaintenanceWindow, type Weekday } from '../store/index.js';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export const maintenanceWindowSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7),
    start: z.string().regex(HHMM, 'a time as HH:MM (00:00 to 23:59)'),
    end: z.string().regex(HHMM, 'a time as HH:MM (00:00 to 23:59)'),
    timeZone: z.string().max(64).refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone such as Europe/Berlin'),
  })
  .strict()
  .refine((w) => w.start !== w.end, { message: 'start and end must differ (a window past midnight ends before it starts)', path: ['end'] })
  .transform((w): MaintenanceWindow => ({ ...w, days: WEEKDAYS.filter((d) => w.days.includes(d)) }));

const DAY_SPEC = /^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?$/;

/**
 * Reads the short form operators write: "Mon-Fri 12:00-14:00", "Sat,Sun 06:00-09:00",
 * "Fri-Mon 22:00-02:00" (day ranges wrap around the week; a window past midnight starts on the day named).
 */
export function parseMaintenanceWindow(text: string, timeZone: string): MaintenanceWindow {
  const m = /^\s*(\S+)\s+(\d\d:\d\d)-(\d\d:\d\d)\s*$/.exec(text);
  if (!m) throw new Error(`maintenance window "${text}": expected DAYS HH:MM-HH:MM, e.g. "Mon-Fri 12:00-14:00"`);
  const days = new Set<Weekday>();
  for (const part of m[1]!.toLowerCase().split(',')) {
    const range = DAY_SPEC.exec(part);
    if (!range) throw new Error(`maintenance window "${text}": "${part}" is not a day or a day range (Mon, Mon-Fri)`);
    const from = WEEKDAYS.indexOf(range[1] as Weekday);
    const to = WEEKDAYS.indexOf((range[2] ?? range[1]) as Weekday);
    for (let i = from; ; i = (i + 1) % 7) {
      days.add(WEEKDAYS[i]!);
      if (i === to) break;
    }
  }
  const parsed = maintenanceWindowSchema.safeParse({ days: [...days], start: m[2], end: m[3], timeZone });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`maintenance window "${text}" (${timeZone}): ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** "Mon-Fri 12:00-14:00 Europe/Berlin" style, for listings: runs of consecutive days as ranges. */
export function describeMaintenanceWindow(w: MaintenanceWindow): string {
  const cap = (d: Weekday) => d[0]!.toUpperCase() + d.slice(1);
  const runs: Weekday[][] = [];
  for (const day of w.days) {
    const last = runs.at(-1);
    if (last && WEEKDAYS.indexOf(last.at(-1)!) + 1 === WEEKDAYS.indexOf(day)) last.push(day);
    else runs.push([day]);
  }
  const days = runs.map((r) => (r.length > 2 ? `${cap(r[0]!)}-${cap(r.at(-1)!)}` : r.map(cap).join(','))).join(',');
  return `${days} ${w.start}-${w.end} ${w.timeZone}`;
}

export interface Interval {
  start: number;
  end: number;
}

/**
 * The window's occurrences that overlap [from, to), in epoch ms, clipped to it. Local times are
 * turned into instants in the window's zone, so DST changes move them as the hospital's clocks move:
 * a start inside the spring-forward gap begins at the first valid minute after it.
 */
export function windowOccurrences(w: MaintenanceWindow, from: number, to: number): Interval[] {
  const [sh, sm] = w.start.split(':').map(Number) as [number, number];
  const [eh, em] = w.end.split(':').map(Number) as [number, number];
  const overnight = w.end < w.start;
  const out: Interval[] = [];
  // Start a day early: a window past midnight may have begun on the previous local day.
  let day = DateTime.fromMillis(from, { zone: w.timeZone }).startOf('day').minus({ days: 1 });
  const lastDay = DateTime.fromMillis(to, { zone: w.timeZone }).startOf('day');
  while (day <= lastDay) {
    if (w.days.includes(WEEKDAYS[day.weekday - 1]!)) {
      const start = day.set({ hour: sh, minute: sm }).toMillis();
      const end = (overnight ? day.plus({ days: 1 }) : day).set({ hour: eh, minute: em }).toMillis();
      const clipped = { start: Math.max(start, from), end: Math.min(end, to) };
      if (clipped.end > clipped.start) out.push(clipped);
    }
    day = day.plus({ days: 1 });
  }
  return out;
}
