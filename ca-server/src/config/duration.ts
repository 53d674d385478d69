import { z } from 'zod';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "90s", "15m", "72h" or "30d" into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export const durationSchema = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms === 0) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 15m, 72h or 30d` });
      return z.NEVER;
    }
    return ms;
  });

export function formatDuration(ms: number): string {
  for (const [unit, size] of Object.entries(UNIT_MS).reverse()) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
