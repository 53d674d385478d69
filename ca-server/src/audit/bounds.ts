import type { AuditEvent } from './event.js';

type Details = NonNullable<AuditEvent['details']>;

/** Ids, names and addresses are short; anything longer was not written by us and is cut. */
const MAX_ID = 256;
const MAX_KEYS = 32;
const MAX_KEY = 64;
const MAX_VALUE = 512;
const MAX_ITEMS = 32;
/** The whole details object as JSON; the store refuses anything over twice this. */
export const MAX_DETAILS_JSON = 4096; // bytes

/**
 * Cuts an event to the sizes the trail accepts, so one hostile identifier or error text cannot
 * bloat every entry and every ATNA message. What was cut is marked, never silently lost.
 */
export function boundEvent(e: AuditEvent): AuditEvent {
  return {
    type: e.type,
    outcome: e.outcome,
    actor: { kind: e.actor.kind, id: cut(e.actor.id, MAX_ID), ...(e.actor.name !== undefined ? { name: cut(e.actor.name, MAX_ID) } : {}) },
    ...(e.source !== undefined ? { source: cut(e.source, MAX_ID) } : {}),
    ...(e.subject ? { subject: { kind: e.subject.kind, id: cut(e.subject.id, MAX_ID) } } : {}),
    ...(e.details ? { details: boundDetails(e.details) } : {}),
  };
}

function boundDetails(details: Details): Details {
  const out: Details = {};
  const keys = Object.keys(details);
  let size = 2;
  for (const key of keys.slice(0, MAX_KEYS)) {
    const value = details[key];
    if (value === undefined) continue;
    const bounded = Array.isArray(value) ? boundList(value) : typeof value === 'string' ? cut(value, MAX_VALUE) : value;
    const k = cut(key, MAX_KEY);
    const entrySize = Buffer.byteLength(JSON.stringify(k)) + Buffer.byteLength(JSON.stringify(bounded)) + 2;
    if (size + entrySize > MAX_DETAILS_JSON - 32) {
      out.truncated = true;
      return out;
    }
    out[k] = bounded;
    size += entrySize;
  }
  if (keys.length > MAX_KEYS) out.truncated = true;
  return out;
}

function boundList(items: string[]): string[] {
  const kept = items.slice(0, MAX_ITEMS).map((s) => cut(String(s), MAX_VALUE));
  return items.length > MAX_ITEMS ? [...kept, `... ${items.length - MAX_ITEMS} more`] : kept;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}
