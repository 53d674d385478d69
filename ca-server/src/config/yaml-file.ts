import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, describeIssues } from './schema-errors.js';

/** Reads a YAML file and validates it; every error names `source` and the offending key. */
export async function readYamlFile<S extends z.ZodType>(path: string, schema: S, source: string = path): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'), { maxAliasCount: 10 });
  } catch (err) {
    throw new ConfigError([`${source}: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssues(source, parsed.error));
  return parsed.data;
}
