import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { KEY_ALGORITHMS } from './algorithms.js';
import { durationSchema } from '../config/duration.js';
import { ConfigError } from '../config/schema-errors.js';
import { readYamlFile } from '../config/yaml-file.js';

const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement'] as const;
const EXTENDED_KEY_USAGES = ['serverAuth', 'clientAuth'] as const;
const URL_TEMPLATE = /^(https?:\/\/[^\s{}]+|\{httpBase\}[^\s{}]*)$/;

const urlTemplate = z.string().regex(URL_TEMPLATE, 'must be an http(s) URL or start with {httpBase}');

export const profileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes'),
    description: z.string().min(1).max(300),
    validity: z
      .object({ default: durationSchema, max: durationSchema })
      .strict()
      .refine((v) => v.default <= v.max, { message: 'default must not exceed max', path: ['default'] }),
    keyAlgorithms: z.array(z.enum(KEY_ALGORITHMS)).min(1),
    /** RSA 2048 for modalities that cannot do better: an explicit opt-in, logged at each issuance. */
    legacyRsa2048: z.boolean().default(false),
    keyUsage: z.array(z.enum(KEY_USAGES)).min(1),
    /** Added when the subject key is RSA (key transport in TLS 1.2 RSA suites). */
    rsaKeyUsage: z.array(z.enum(KEY_USAGES)).default([]),
    extendedKeyUsage: z.array(z.enum(EXTENDED_KEY_USAGES)).min(1),
    identifiers: z
      .object({ types: z.array(z.enum(['dns', 'ip'])).min(1), max: z.number().int().min(1).max(100) })
      .strict(),
    urls: z.object({ crl: urlTemplate.optional(), ocsp: urlTemplate.optional(), caIssuers: urlTemplate.optional() }).strict().default({}),
  })
  .strict();

export type Profile = z.infer<typeof profileSchema>;

/** The profiles shipped with Wardcert, at the repository's top level. */
export const BUNDLED_PROFILES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../profiles');

export async function loadProfileFile(path: string): Promise<Profile> {
  const source = basename(path);
  const profile = await readYamlFile(path, profileSchema, source);
  if (`${profile.name}.yaml` !== source) {
    throw new ConfigError([`${source}: name: "${profile.name}" must match the file name`]);
  }
  return profile;
}

/** Loads every *.yaml profile in a directory; all errors of all files are reported together. */
export async function loadProfiles(dir: string = BUNDLED_PROFILES_DIR): Promise<Map<string, Profile>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const profiles = new Map<string, Profile>();
  const problems: string[] = [];
  for (const file of files) {
    try {
      const profile = await loadProfileFile(join(dir, file));
      profiles.set(profile.name, profile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  if (profiles.size === 0) throw new ConfigError([`${dir}: no *.yaml profiles found`]);
  return profiles;
}

/** Expands {httpBase} in a profile URL; undefined when the URL needs a base that is not configured. */
export function expandUrl(template: string | undefined, httpBase: string | undefined): string | undefined {
  if (!template) return undefined;
  if (!template.includes('{httpBase}')) return template;
  return httpBase ? template.replace('{httpBase}', httpBase.replace(/\/+$/, '')) : undefined;
}
