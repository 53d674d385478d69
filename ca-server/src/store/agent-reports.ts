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
    async latestForDevice(deviceId) {
      const row = await db<Row>('agent_reports').where({ device_id: deviceId }).orderBy('received_at', 'desc').first();
      return row ? fromRow(row) : undefined;
    },
    async list(limit) {
      return (await db<Row>('agent_reports').orderBy('received_at', 'desc').limit(toCount('limit', limit))).map(fromRow);
    },
  };
}
