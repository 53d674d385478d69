import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ChallengeSolver } from '@wardcert/agent';
import type { ResponderMessage } from './responder-worker.js';

export interface SharedResponder extends ChallengeSolver {
  close(): Promise<void>;
}

/**
 * One http-01 responder (RFC 8555 s8.3) for every simulated device: tokens are unique, so one map
 * answers them all, whatever address the CA connected to. It runs in a worker thread: with
 * thousands of devices signing at once, answers from the main thread would come too late and the
 * CA would rightly fail the validations.
 */
export async function startResponder(host: string, port: number): Promise<SharedResponder> {
  const worker = new Worker(new URL('./responder-worker.js', import.meta.url), { workerData: { host, port } });
  const [first] = (await once(worker, 'message')) as [{ error?: string }];
  if (first.error) {
    await worker.terminate();
    throw new Error(`the http-01 responder cannot listen on ${host}:${port}: ${first.error}`);
  }
  const pending = new Map<number, () => void>();
  let next = 0;
  worker.on('message', (m: { id: number }) => {
    pending.get(m.id)?.();
    pending.delete(m.id);
  });
  // The token is in the worker's map before the device tells the CA to look.
  const send = (m: Omit<ResponderMessage, 'id'>) =>
    new Promise<void>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      worker.postMessage({ ...m, id });
    });
  return {
    type: 'http-01',
    present: (_id, token, keyAuthorization) => send({ token, keyAuthorization }),
    cleanup: (_id, token) => send({ token }),
    async close() {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}
