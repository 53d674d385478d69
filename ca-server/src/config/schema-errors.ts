import type { z } from 'zod';

/** Turns zod issues into lines that name the file and the key, e.g. "ca.yaml: acme.port: expected number". */
export function describeIssues(source: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const key = issue.path.length ? issue.path.join('.') : '(top level)';
    return `${source}: ${key}: ${issue.message}`;
  });
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}
