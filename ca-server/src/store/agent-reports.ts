import type { Knex } from 'knex';
import { fromMillis, toCount, type Millis } from './columns.js';

export interface AgentReportRecord {
  accountId: string;
  deviceId: string | null;
  report: Record<string, unknown>;
  remoteAddress: string | null;
  receivedAt: Date;
}

export interface AgentReportRepository {
  /** Keeps the newest report of each account. */
  save(r: AgentReportRecord): Promise<void>;
  byAccount(accountId: string): Promise<AgentReportRecord | undefined>;
  /** Agents of valid accounts whose newest report arrived before `cutoff`: they went silent. */
  countSilent(cutoff: Date): Promise<number>;
  /** Listeners whose probe failed in each agent's newest report, counted by kind (dicom, hl7). */
  failingListeners(): Promise<Map<string, number>>;
  /** The newest report of any of the device's accounts. */
  latestForDevice(deviceId: string): Promise<AgentReportRecord | undefined>;
  /** Every account's newest report, newest first, at most `limit`. */
  list(limit: number): Promise<AgentReportRecord[]>;
}

interface Row {
  account_id: string;
  device_id: string | null;
  report: string;
  remote_address: string | null;
  received_at: Millis;
}

const fromRow = (r: Row): AgentReportRecord => ({
  accountId: r.account_id,
  deviceId: r.device_id,
  report: JSON.parse(r.report) as Record<string, unknown>,
  remoteAddress: r.remote_address,
  receivedAt: fromMillis(r.received_at),
});

export function agentReportRepository(db: Knex): AgentReportRepository {
  return {
    async save(r) {
      const row: Row = { account_id: r.accountId, device_id: r.deviceId, report: JSON.stringify(r.report), remote_address: r.remoteAddress, received_at: r.receivedAt.getTime() };
      await db('agent_reports').insert(row).onConflict('account_id').merge();
    },
    async byAccount(accountId) {
      const row = await db<Row>('agent_reports').where({ account_id: accountId }).first();
      return row ? fromRow(row) : undefined;
    },
    async countSilent(cutoff) {
      // A deactivated account (a removed device) is not an agent anyone waits for.
      const [row] = await db('agent_reports')
        .join('accounts', 'accounts.id', 'agent_reports.account_id')
        .where('accounts.status', 'valid')
        .andWhere('agent_reports.received_at', '<', cutoff.getTime())
        .count({ n: '*' });
      return Number(row!.n);
    },
    async failingListeners() {
      // Reports are stored as the schema's own JSON.stringify, so a failing probe reads exactly
      // "ok":false; only those rows are parsed.
      const rows = await db<Row>('agent_reports').where('report', 'like', '%"ok":false%').select('report');
      const counts = new Map<string, number>();
      for (const { report } of rows) {
        const listeners = (JSON.parse(report) as { listeners?: { kind: string; ok: boolean | null }[] }).listeners ?? [];
        for (const l of listeners) if (l.ok === false) counts.set(l.kind, (counts.get(l.kind) ?? 0) + 1);
      }
      return counts;
    },
    async latestForDevice(deviceId) {
      const row = await db<Row>('agent_reports').where({ device_id: deviceId }).orderBy('received_at', 'desc').first();
      return row ? fromRow(row) : undefined;
    },
    async list(limit) {
      return (await db<Row>('agent_reports').orderBy('received_at', 'desc').limit(toCount('limit', limit))).map(fromRow);
    },
  };
}
