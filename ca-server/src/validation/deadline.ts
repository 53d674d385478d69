import type { ValidationContext } from './types.js';

/** Settles with the work or, when the signal fires first, with the signal's reason; the work is left to end by itself. */
export function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function timeoutDetail(what: string, ctx: ValidationContext): string {
  return `${what}: no answer within the validation timeout of ${ctx.timeoutMs} ms`;
}
