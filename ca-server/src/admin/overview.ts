import { certId } from '../acme/cert-id.js';
import { namesOfDevices } from './device-names.js';
import type { AgentReportRecord, CertificateState, CertificateSummary, ExpiryBucket, Store } from '../store/index.js';

/** An agent that has not reported for this long (three default report intervals) counts as silent. */
export const SILENT_AFTER_MS = 15 * 60_000;
/** The timeline covers the next week in six-hour bars. */
const TIMELINE_MS = 7 * 24 * 3_600_000;
const TIMELINE_BUCKET_MS = 6 * 3_600_000;
/** Bounds what one overview lists; the counts are exact. */
const LIST_LIMIT = 50;
const REPORT_SCAN_LIMIT = 20_000;
const OVERDUE_SCAN_LIMIT = 500;

export interface AgentProblem {
  accountId: string;
  deviceId: string | null;
  receivedAt: string;
  lastError: string | null;
  failedListeners: string[];
}

export interface Overview {
  generatedAt: string;
  counts: Record<CertificateState, number>;
  failingRenewals: { agents: AgentProblem[]; overdue: CertificateSummary[] };
  silentAgents: AgentProblem[];
  failedProbes: AgentProblem[];
  timeline: { bucketHours: number; buckets: ExpiryBucket[] };
  /** Inventory names of the devices named above, by id. */
  deviceNames: Record<string, string>;
}

interface ReportShape {
  lastError?: string | null;
  listeners?: { kind: string; listen: string; ok: boolean | null }[];
}

function agentProblem(r: AgentReportRecord): AgentProblem {
  const report = r.report as ReportShape;
  return {
    accountId: r.accountId,
    deviceId: r.deviceId,
    receivedAt: r.receivedAt.toISOString(),
    lastError: report.lastError ?? null,
    failedListeners: (report.listeners ?? []).filter((l) => l.ok === false).map((l) => `${l.kind} ${l.listen}`),
  };
}

/**
 * What the overview page shows: counts by state, renewals that are failing (an agent's last error,
 * or a certificate past its ARI window that nothing replaced), silent agents, failed probes.
 */
export async function computeOverview(store: Store, now: Date): Promise<Overview> {
  const [counts, reports, pastPoint, buckets] = await Promise.all([
    store.certificateSearch.countByState(now),
    store.agentReports.list(REPORT_SCAN_LIMIT),
    store.certificateSearch.pastRenewalPoint(now, OVERDUE_SCAN_LIMIT),
    store.certificateSearch.expiryBuckets(now, new Date(now.getTime() + TIMELINE_MS), TIMELINE_BUCKET_MS),
  ]);
  const problems = reports.map(agentProblem);
  const failingAgents = problems.filter((p) => p.lastError !== null).slice(0, LIST_LIMIT);
  const overdue = await notReplaced(store, pastPoint);
  const silentAgents = problems.filter((p) => now.getTime() - Date.parse(p.receivedAt) > SILENT_AFTER_MS).slice(0, LIST_LIMIT);
  const failedProbes = problems.filter((p) => p.failedListeners.length > 0).slice(0, LIST_LIMIT);
  const named = [...failingAgents, ...overdue, ...silentAgents, ...failedProbes].map((x) => x.deviceId);
  return {
    generatedAt: now.toISOString(),
    counts,
    failingRenewals: { agents: failingAgents, overdue },
    silentAgents,
    failedProbes,
    timeline: { bucketHours: TIMELINE_BUCKET_MS / 3_600_000, buckets },
    deviceNames: Object.fromEntries(await namesOfDevices(store, named)),
  };
}

/** Certificates past their renewal point whose ARI certID no later certificate names in `replaces`. */
async function notReplaced(store: Store, candidates: CertificateSummary[]): Promise<CertificateSummary[]> {
  const ids = candidates.map((c) => certId(c.issuerKeyId, c.serial));
  const replaced = await store.certificateSearch.replacedAmong(ids);
  return candidates.filter((_, i) => !replaced.has(ids[i]!)).slice(0, LIST_LIMIT);
}
