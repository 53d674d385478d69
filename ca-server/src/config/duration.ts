import { parseDuration, UNIT_MS } from '@wardcert/common';
import { z } from 'zod';

export { parseDuration };

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
