import { afterEach, describe, expect, it } from 'vitest';
import {
  createCryptoWorkerPool,
  workerLibrary,
  type CryptoWorkerPool,
  type OpenedBox,
} from './crypto-workers.js';
import {
  createSealedBoxOpener,
  cryptoReady,
  decodeOriginalBase64,
  generateKeypair,
  sealToBase64,
  type BoxKeypair,
} from './sealed-box.js';

const pools: CryptoWorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** The main-thread answer the pool must match, and count how often it is asked. */
function inThread() {
  const opener = createSealedBoxOpener('auto');
  let calls = 0;
  const fallback = (cipher: Uint8Array, keypairs: readonly BoxKeypair[]): OpenedBox | undefined => {
    calls++;
    for (let index = 0; index < keypairs.length; index++) {
      const message = opener.open(cipher, keypairs[index]!);
      if (message) return { index, plaintext: Buffer.from(message).toString('utf8') };
    }
    return undefined;
  };
  return { fallback, calls: () => calls };
}

const text = (o: OpenedBox | undefined) => o?.plaintext;

describe('crypto worker pool', () => {
  for (const kind of ['sodium-native', 'libsodium-wrappers'] as const) {
    it(`opens on a worker with ${kind} exactly as the main thread does: which key, what plaintext, what fails`, async () => {
      await cryptoReady();
      const library = workerLibrary(kind);
      expect(library, `${kind} resolves`).toBeDefined();
      const main = inThread();
      const pool = createCryptoWorkerPool({ size: 1, library: library!, fallback: main.fallback });
      pools.push(pool);
      await pool.warm();
      const [a, b, c] = [generateKeypair(), generateKeypair(), generateKeypair()];
      const toB = decodeOriginalBase64(sealToBase64('{"to":"b"}', b.publicKey))!;
      const tampered = Uint8Array.from(toB);
      tampered[tampered.length - 1]! ^= 1;

      expect(text(await pool.openFirst(toB, [b]))).toBe('{"to":"b"}');
      const second = await pool.openFirst(toB, [a, b, c]);
      expect(second?.index).toBe(1);
      expect(text(second)).toBe('{"to":"b"}');
      expect(await pool.openFirst(toB, [a, c])).toBeUndefined();
      expect(await pool.openFirst(tampered, [a, b, c])).toBeUndefined();
      expect(await pool.openFirst(toB.subarray(0, 47), [b])).toBeUndefined();
      expect(await pool.openFirst(new Uint8Array(0), [b])).toBeUndefined();
      expect(main.calls()).toBe(0); // all of it on the worker
    });
  }

  it('a burst of concurrent requests (batched per tick, two workers) each gets its own answer', async () => {
    await cryptoReady();
    const main = inThread();
    const pool = createCryptoWorkerPool({
      size: 2,
      library: workerLibrary('sodium-native')!,
      fallback: main.fallback,
    });
    pools.push(pool);
    await pool.warm();
    const keys = Array.from({ length: 4 }, () => generateKeypair());
    const jobs = Array.from({ length: 500 }, (_, i) => {
      const k = i % keys.length;
      const body = JSON.stringify({ i, pad: 'x'.repeat(i % 97) });
      return { k, body, cipher: decodeOriginalBase64(sealToBase64(body, keys[k]!.publicKey))! };
    });
    const results = await Promise.all(jobs.map((j) => pool.openFirst(j.cipher, keys)));
    results.forEach((r, i) => {
      expect(r?.index).toBe(jobs[i]!.k);
      expect(text(r)).toBe(jobs[i]!.body);
    });
    expect(main.calls()).toBe(0);
  });

  it('loses nothing when its workers stop with requests in flight: the main thread opens them', async () => {
    await cryptoReady();
    const main = inThread();
    const pool = createCryptoWorkerPool({
      size: 1,
      library: workerLibrary('sodium-native')!,
      fallback: main.fallback,
    });
    await pool.warm();
    const key = generateKeypair();
    const bodies = Array.from({ length: 50 }, (_, i) => `{"n":${i}}`);
    const inFlight = bodies.map((b) =>
      pool.openFirst(decodeOriginalBase64(sealToBase64(b, key.publicKey))!, [key]),
    );
    await new Promise((r) => setImmediate(r)); // the batch has gone to the worker
    await pool.close();
    expect((await Promise.all(inFlight)).map(text)).toEqual(bodies);
    // After close every request is opened on the main thread.
    const after = await pool.openFirst(decodeOriginalBase64(sealToBase64('{}', key.publicKey))!, [key]);
    expect(text(after)).toBe('{}');
    expect(main.calls()).toBeGreaterThan(0);
  });

  it('release() stops an idle worker (memory back at rest) and the next request starts one again', async () => {
    await cryptoReady();
    const main = inThread();
    const pool = createCryptoWorkerPool({
      size: 1,
      library: workerLibrary('sodium-native')!,
      fallback: main.fallback,
    });
    pools.push(pool);
    const key = generateKeypair();
    const sealed = (t: string) => decodeOriginalBase64(sealToBase64(t, key.publicKey))!;
    expect(await pool.release()).toBe(0); // nothing started yet
    await pool.warm();
    expect(text(await pool.openFirst(sealed('{"a":1}'), [key]))).toBe('{"a":1}');
    expect(main.calls()).toBe(0);
    expect(await pool.release()).toBe(1);
    // The next request starts a worker again and, while it loads, is opened on the main thread.
    expect(text(await pool.openFirst(sealed('{"a":2}'), [key]))).toBe('{"a":2}');
    expect(main.calls()).toBe(1);
    await pool.warm();
    expect(text(await pool.openFirst(sealed('{"a":3}'), [key]))).toBe('{"a":3}');
    expect(main.calls()).toBe(1); // a released worker is no failure: on a worker again
  });

  it('the sandbox opener with workers answers as the one without', async () => {
    await cryptoReady();
    const withWorkers = createSealedBoxOpener('auto', 1);
    const without = createSealedBoxOpener('auto', 0);
    const wasmWorkers = createSealedBoxOpener('wasm', 1);
    try {
      expect([withWorkers.workers, without.workers]).toEqual([1, 0]);
      for (const o of [withWorkers, without, wasmWorkers]) await o.ready();
      const [a, b] = [generateKeypair(), generateKeypair()];
      const cipher = decodeOriginalBase64(sealToBase64('hello', b.publicKey))!;
      for (const o of [withWorkers, without, wasmWorkers]) {
        const r = await o.openFirst(cipher, [a, b]);
        expect(r?.index).toBe(1);
        expect(text(r)).toBe('hello');
        expect(await o.openFirst(cipher, [a])).toBeUndefined();
      }
    } finally {
      await Promise.all([withWorkers.close(), without.close(), wasmWorkers.close()]);
    }
  });
});
