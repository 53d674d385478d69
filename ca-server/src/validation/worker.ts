import type { Logger } from 'pino';
import { localSource, systemActor } from '../audit/actors.js';
import type { AuditRecorder } from '../audit/event.js';
import type { ChallengeWork, Store } from '../store/index.js';
import { validateChallenge, type ValidationOptions } from './index.js';

export interface ValidatorOptions {
  store: Store;
  validation: ValidationOptions;
  logger: Logger;
  /** Each result is audited before it is stored: if the trail cannot take it, the lease runs out and the validation runs again. */
  audit: AuditRecorder;
  /** How often the store is asked for work another instance (or a restart) left. */
  pollMs?: number;
  /** Validations in flight at once on this instance. */
  concurrency?: number;
  /** Called with each finished validation (metrics). */
  onResult?: (type: string, ok: boolean) => void;
  /** Told on every poll how many challenges wait for or are in validation, on every instance (admission). */
  onBacklog?: (count: number) => void;
}

export interface Validator {
  /** Look for work now (a challenge was just started here). */
  poke(): void;
  stop(): Promise<void>;
}

/**
 * Runs validations of challenges in state "processing", taken from the store under a lease: work
 * survives a restart, and with several instances each challenge is validated by exactly one.
 */
export function startValidator(opts: ValidatorOptions): Validator {
  const pollMs = opts.pollMs ?? 1000;
  const concurrency = opts.concurrency ?? 16;
  // A lease outlives the validation's own time limit, so a slow one is never taken twice.
  const leaseMs = opts.validation.timeoutMs * 2 + 5000;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let scanning = false;
  let again = false;

  const scan = async (): Promise<void> => {
    if (stopped) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = true;
    try {
      do {
        again = false;
        const room = concurrency - inFlight.size;
        if (room <= 0) break;
        const work = await opts.store.orders.claimChallenges(new Date(), leaseMs, room);
        for (const item of work) {
          const run = validate(item).finally(() => {
            inFlight.delete(run);
            if (!stopped) void scan();
          });
          inFlight.add(run);
        }
      } while (again && !stopped);
    } catch (err) {
      opts.logger.error({ err }, 'could not fetch validation work from the store');
    } finally {
      scanning = false;
    }
  };

  const validate = async ({ challenge, authorization, accountId }: ChallengeWork): Promise<void> => {
    try {
      const account = await opts.store.accounts.byId(accountId);
      if (!account) throw new Error(`account ${accountId} vanished`);
      const keyAuthorization = `${challenge.token}.${account.thumbprint}`;
      const identifier = authorization.wildcard ? { ...authorization.identifier, value: `*.${authorization.identifier.value}` } : authorization.identifier;
      const result = await validateChallenge(challenge.type, identifier, challenge.token, keyAuthorization, opts.validation);
      await opts.audit.record({
        type: 'validation.result',
        outcome: result.ok ? 'success' : 'failure',
        actor: systemActor(),
        source: localSource(),
        subject: { kind: 'authorization', id: authorization.id },
        details: {
          account: accountId,
          challenge: challenge.id,
          challengeType: challenge.type,
          identifier: `${identifier.type}:${identifier.value}`,
          ...(result.ok ? {} : { problem: result.problem.type, detail: result.problem.detail }),
        },
      });
      await opts.store.orders.finishChallenge(
        challenge.id,
        result.ok ? { status: 'valid', validatedAt: result.validatedAt } : { status: 'invalid', error: { ...result.problem, status: 403 } },
      );
      opts.onResult?.(challenge.type, result.ok);
      opts.logger.info(
        { event: 'validation.result', challenge: challenge.id, type: challenge.type, identifier: identifier.value, ok: result.ok, ...(result.ok ? {} : { problem: result.problem }) },
        result.ok ? 'validation succeeded' : 'validation failed',
      );
    } catch (err) {
      // The lease runs out and another pass retries; nothing is lost.
      opts.logger.error({ err, challenge: challenge.id }, 'validation could not be recorded');
    }
  };

  const count = async () => {
    try {
      opts.onBacklog?.(await opts.store.orders.countProcessingChallenges());
    } catch (err) {
      opts.logger.error({ err }, 'could not count the validation backlog');
    }
  };
  const timer = setInterval(() => void Promise.all([scan(), opts.onBacklog && count()]), pollMs);
  timer.unref();
  void scan();

  return {
    poke: () => void scan(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
