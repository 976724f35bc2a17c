import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import sodium from 'libsodium-wrappers';
import { checkFastSeal, createFastSealer } from './fast-seal.js';

/** One create-payment body as a merchant sends it: sealed to the app_key, base64 ORIGINAL. */
export interface SealedOrder {
  order_id: string;
  body: string;
}

/**
 * The plaintext order a realistic shop sends (spec §4 fields, a user, and a callback_post_url
 * that points at the bench's own receiver, inside the built-in merchant's domains).
 */
export function benchOrder(i: number, prefix: string, callbackUrl: string): string {
  return JSON.stringify({
    order: {
      amount: 1000 + (i % 9000) + (i % 4) * 0.25,
      order_id: `${prefix}-${i}`,
      description: `Заказ №${i}: тестовый товар`,
      type: 'ecom',
      callback_post_url: callbackUrl,
      callback_success_url: 'http://localhost/shop/ok',
      callback_failed_url: 'http://localhost/shop/failed',
      show_close_button: true,
    },
    user: { merchant_user_id: `user-${i % 997}`, phone: '+77778889900', email: `buyer${i % 997}@example.kz` },
  });
}

/**
 * Seals `count` distinct orders before any measured run, so the load generator spends no CPU on
 * crypto while it measures (both cores are shared with the server). Large pools are split over
 * worker threads; small ones (the smoke test) are sealed inline.
 *
 * @example
 * const pool = await buildSealedPool({ count: 1000, prefix: 'b1', callbackUrl, appKey, secretKey });
 */
export async function buildSealedPool(opts: {
  count: number;
  prefix: string;
  callbackUrl: string;
  appKey: string;
  /** Only to prove the sealer against libsodium before use. */
  secretKey: string;
}): Promise<SealedOrder[]> {
  await sodium.ready;
  checkFastSeal(opts.appKey, opts.secretKey);
  const ids = Array.from({ length: opts.count }, (_, i) => `${opts.prefix}-${i}`);
  const plaintexts = ids.map((_, i) => benchOrder(i, opts.prefix, opts.callbackUrl));
  const workers = Math.min(availableParallelism(), 4);
  let bodies: string[];
  if (opts.count < 5000 || workers < 2) {
    const sealer = createFastSealer(opts.appKey);
    bodies = plaintexts.map((p) => sealer.seal(p));
  } else {
    const per = Math.ceil(plaintexts.length / workers);
    const parts = await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        sealInWorker(opts.appKey, plaintexts.slice(w * per, (w + 1) * per)),
      ),
    );
    bodies = parts.flat();
  }
  return ids.map((order_id, i) => ({ order_id, body: bodies[i]! }));
}

function sealInWorker(appKey: string, plaintexts: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // Plain Node in the worker (execArgv: []): no TypeScript loader runs in these threads.
    const worker = new Worker(new URL('./seal-worker.mjs', import.meta.url), {
      workerData: { appKey, plaintexts },
      execArgv: [],
    });
    // ~330 µs a seal; a worker that has not answered in far longer is stuck, and the bench says so.
    const limitMs = 30_000 + plaintexts.length * 3;
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`a seal worker gave no answer for ${plaintexts.length} orders within ${limitMs} ms`));
    }, limitMs);
    worker.once('message', (sealed: string[]) => {
      clearTimeout(timer);
      resolve(sealed);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`a seal worker exited (${code}) before answering`));
    });
  });
}
