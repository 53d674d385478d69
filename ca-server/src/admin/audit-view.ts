import { z } from 'zod';
import type { AuditEventType } from '../audit/event.js';
import type { AuditEntry } from '../store/index.js';
import { AUDIT_EVENT_LABELS } from './audit-labels.js';
import type { AdminContext } from './context.js';

const PAGE = 50;

/** "2026-12-01T14:30" as a datetime-local field sends it, read as UTC; full ISO times work too. */
const instant = z
  .string()
  .max(40)
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined;
    const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'not a date and time' });
      return z.NEVER;
    }
    return new Date(ms);
  });

/** The audit view's filters: time range, event type, actor, outcome; keyset paging by sequence number. */
export const auditQuerySchema = z
  .object({
    from: instant,
    to: instant,
    type: z
      .enum(Object.keys(AUDIT_EVENT_LABELS) as [AuditEventType, ...AuditEventType[]])
      .or(z.literal(''))
      .optional()
      .transform((s) => s || undefined),
    actor: z.string().max(128).optional().transform((s) => s?.trim() || undefined),
    outcome: z.enum(['success', 'failure', '']).optional().transform((s) => s || undefined),
    before: z.coerce.number().int().min(1).optional(),
  })
  .strict();

export type AuditQueryParams = z.infer<typeof auditQuerySchema>;

export interface AuditPage {
  entries: AuditEntry[];
  /** The `before` value of the next (older) page, when there is one. */
  olderBefore: number | undefined;
}

export async function loadAuditPage(admin: AdminContext, p: AuditQueryParams): Promise<AuditPage> {
  const entries = await admin.store.audit.list({
    ...(p.from ? { from: p.from } : {}),
    ...(p.to ? { to: p.to } : {}),
    ...(p.type ? { types: [p.type] } : {}),
    ...(p.actor ? { actor: p.actor } : {}),
    ...(p.outcome ? { outcome: p.outcome } : {}),
    ...(p.before ? { beforeSeq: p.before } : {}),
    limit: PAGE + 1,
  });
  const more = entries.length > PAGE;
  const page = entries.slice(0, PAGE);
  return { entries: page, olderBefore: more ? page[page.length - 1]!.seq : undefined };
}
