import { Resolver } from 'node:dns/promises';

/** Looks names up the way validation needs; an existing name without such records gives []. */
export interface NameResolver {
  /** AAAA and A records, IPv6 first. */
  addresses(name: string): Promise<string[]>;
  /** TXT records, each record's character-strings joined as RFC 8555 s8.4 requires. */
  txt(name: string): Promise<string[]>;
}

export type DnsFailure = 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'ERROR';

export class DnsLookupError extends Error {
  override readonly name = 'DnsLookupError';
  constructor(
    readonly failure: DnsFailure,
    message: string,
  ) {
    super(message);
  }
}

// c-ares gives up on its own soon after a validation's deadline, so unanswered queries do not pile up.
const ATTEMPT_TIMEOUT_MS = 2000;
const TRIES = 2;

/**
 * A resolver that asks one DNS server, given as 'HOST:PORT' ('[::1]:53' for IPv6), or the servers of
 * /etc/resolv.conf when none is given. Throws at once on a malformed server: that is a configuration error.
 */
export function createResolver(server?: string): NameResolver {
  const resolver = new Resolver({ timeout: ATTEMPT_TIMEOUT_MS, tries: TRIES });
  if (server !== undefined) resolver.setServers([server]);
  return {
    async addresses(name) {
      const settled = await Promise.allSettled([
        query('AAAA', name, () => resolver.resolve6(name)),
        query('A', name, () => resolver.resolve4(name)),
      ]);
      const found = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      const failed = settled.find((r) => r.status === 'rejected');
      // A broken AAAA answer must not hide a good A answer, and the reverse.
      if (found.length > 0 || failed === undefined) return found;
      throw failed.reason;
    },
    async txt(name) {
      const records = await query('TXT', name, () => resolver.resolveTxt(name));
      return records.map((chunks) => chunks.join(''));
    },
  };
}

const FAILURES: Record<string, DnsFailure> = {
  ENOTFOUND: 'NXDOMAIN',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  ETIMEOUT: 'TIMEOUT',
};

async function query<T>(type: string, name: string, run: () => Promise<T[]>): Promise<T[]> {
  try {
    return await run();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENODATA') return [];
    const failure = FAILURES[code] ?? 'ERROR';
    throw new DnsLookupError(failure, `${failure === 'ERROR' ? code || 'error' : failure} looking up ${type} for ${name}`);
  }
}
