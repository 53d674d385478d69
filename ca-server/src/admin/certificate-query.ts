import { z } from 'zod';
import { CERTIFICATE_SORTS, CERTIFICATE_STATES, type CertificatePageQuery } from '../store/index.js';

const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .transform((s) => s.trim())
    .optional()
    .transform((s) => (s ? s : undefined));

/** The certificate list's query string, shared by the page, the JSON API and the CSV export. */
export const certificateQuerySchema = z
  .object({
    state: z.enum(CERTIFICATE_STATES).or(z.literal('')).optional().transform((s) => s || undefined),
    profile: optionalText(64),
    device: optionalText(128),
    q: optionalText(128),
    sort: z.enum(CERTIFICATE_SORTS).default('expiry'),
    order: z.enum(['asc', 'desc']).default('asc'),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
    size: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export type CertificateQueryParams = z.infer<typeof certificateQuerySchema>;

export function toPageQuery(p: CertificateQueryParams): CertificatePageQuery {
  return {
    ...(p.state ? { state: p.state } : {}),
    ...(p.profile ? { profile: p.profile } : {}),
    ...(p.device ? { deviceId: p.device } : {}),
    ...(p.q ? { search: p.q } : {}),
    sort: p.sort,
    descending: p.order === 'desc',
    offset: (p.page - 1) * p.size,
    limit: p.size,
  };
}

/** The same filter as a query string, for links (paging, sorting, export) that keep it. */
export function toQueryString(p: CertificateQueryParams, change: Partial<CertificateQueryParams> = {}): string {
  const merged = { ...p, ...change };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(merged)) if (v !== undefined && v !== '') params.set(k, String(v));
  return params.toString();
}
