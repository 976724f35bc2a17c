import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { BoxKeypair } from './sealed-box.js';

/** Which of the keypairs offered opened a box, and the plaintext. */
export interface OpenedBox {
  index: number;
  message: Uint8Array;
}

/** The library a worker opens boxes with, by the path `require` resolves it to. */
export interface WorkerLibrary {
  kind: 'sodium-native' | 'libsodium-wrappers';
  path: string;
}

/**
 * The worker's code (CommonJS, run with `eval`, so the bundled CLI needs no worker file of its own
 * beside it). It loads the library from the absolute path it is given and keeps the keys it has
 * been sent, by number. A batch arrives as one transferred buffer, per request:
 * `u32 id, u8 pairs, u16 key number × 2 × pairs, u32 length, cipher bytes`; the answer goes back
 * the same way: `u32 id, i16 index of the pair that opened it (-1: none), u32 length, plaintext`.
 * One buffer each way instead of an object per request: structured-cloning objects and strings
 * was most of the hand-off's cost in the bench's profile.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const lib = require(workerData.path);
const native = workerData.kind === 'sodium-native';
const keys = [];
const SEAL = lib.crypto_box_SEALBYTES;
function openOne(cipher, pk, sk) {
  if (cipher.length < SEAL) return undefined;
  if (native) {
    const message = Buffer.allocUnsafe(cipher.length - SEAL);
    return lib.crypto_box_seal_open(message, cipher, pk, sk) ? message : undefined;
  }
  try {
    return lib.crypto_box_seal_open(cipher, pk, sk);
  } catch {
    return undefined;
  }
}
function serve() {
  parentPort.on('message', ({ buf, newKeys }) => {
    for (const k of newKeys) keys.push(new Uint8Array(Buffer.from(k, 'base64')));
    const view = new DataView(buf);
    const bytes = new Uint8Array(buf);
    const answers = [];
    let size = 0;
    for (let at = 0; at < buf.byteLength; ) {
      const id = view.getUint32(at);
      const pairs = view.getUint8(at + 4);
      at += 5;
      const keyAt = at;
      at += pairs * 4;
      const len = view.getUint32(at);
      at += 4;
      const cipher = bytes.subarray(at, at + len);
      at += len;
      let index = -1;
      let message;
      for (let i = 0; i < pairs; i++) {
        message = openOne(cipher, keys[view.getUint16(keyAt + i * 4)], keys[view.getUint16(keyAt + i * 4 + 2)]);
        if (message) { index = i; break; }
      }
      answers.push(id, index, index >= 0 ? message : undefined);
      size += 10 + (index >= 0 ? message.length : 0);
    }
    const out = new ArrayBuffer(size);
    const outView = new DataView(out);
    const outBytes = new Uint8Array(out);
    let at = 0;
    for (let i = 0; i < answers.length; i += 3) {
      const message = answers[i + 2];
      outView.setUint32(at, answers[i]);
      outView.setInt16(at + 4, answers[i + 1]);
      outView.setUint32(at + 6, message ? message.length : 0);
      at += 10;
      if (message) { outBytes.set(message, at); at += message.length; }
    }
    parentPort.postMessage(out, [out]);
  });
  parentPort.postMessage('ready');
}
if (native) serve();
else lib.ready.then(serve);
`;

interface Pending {
  resolve: (r: OpenedBox | undefined) => void;
  reject: (err: Error) => void;
  cipher: Uint8Array;
  keypairs: readonly BoxKeypair[];
}

/** One request waiting for its batch: the cipher and the numbers of its keys on that worker. */
interface Job {
  id: number;
  cipher: Uint8Array;
  keys: number[];
}

/** Most keypairs one request may offer (the u8 in a batch); a merchant holds a handful. */
const MAX_PAIRS = 255;

/**
 * Resolves the library a worker should load: the same one the main thread opens with.
 * Undefined when it cannot be found (then boxes are opened on the main thread).
 */
export function workerLibrary(kind: WorkerLibrary['kind']): WorkerLibrary | undefined {
  try {
    return { kind, path: createRequire(import.meta.url).resolve(kind) };
  } catch {
    return undefined;
  }
}

/**
 * A small pool of worker threads that open sealed boxes off the main thread (config
 * `crypto_workers`). On 2 cores, one worker lets the X25519 work of a create run beside the
 * main thread's HTTP, validation and storage instead of between them.
 *
 * Requests that arrive in the same tick go to a worker as one message (one postMessage each way
 * for a burst). Workers start with the first request, are unref'd (they never keep the process
 * alive), and a worker that dies is replaced; what it held is opened on the main thread through
 * `fallback`, so nothing accepted is lost.
 *
 * @example
 * const pool = createCryptoWorkerPool({ size: 1, library: workerLibrary('sodium-native')!, fallback });
 * const opened = await pool.openFirst(cipher, [keypair]); // { index: 0, message } or undefined
 * await pool.close();
 */
export function createCryptoWorkerPool(opts: {
  size: number;
  library: WorkerLibrary;
  /** Opens on the main thread: for requests a dead worker held, or when no worker can start. */
  fallback: (cipher: Uint8Array, keypairs: readonly BoxKeypair[]) => OpenedBox | undefined;
}) {
  interface Slot {
    worker: Worker;
    pending: Map<number, Pending>;
    batch: Job[];
    /** Key (base64) → its number on this worker; `newKeys` go with the next batch. */
    keyIds: Map<string, number>;
    newKeys: string[];
  }
  const slots: Array<Slot | undefined> = Array.from({ length: opts.size }, () => undefined);
  let nextId = 0;
  let turn = 0;
  let closed = false;
  let failures = 0;
  const flushQueue: Slot[] = [];
  let flushScheduled = false;

  function settleInThread(pending: Iterable<Pending>) {
    for (const p of pending) {
      try {
        p.resolve(opts.fallback(p.cipher, p.keypairs));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  function spawn(i: number): Slot | undefined {
    if (failures >= 3 * opts.size) return undefined; // workers keep dying here: open in-thread
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: opts.library });
    worker.unref();
    const slot: Slot = { worker, pending: new Map(), batch: [], keyIds: new Map(), newKeys: [] };
    worker.on('message', (msg: 'ready' | ArrayBuffer) => {
      if (msg === 'ready') return;
      const view = new DataView(msg);
      for (let at = 0; at < msg.byteLength;) {
        const id = view.getUint32(at);
        const index = view.getInt16(at + 4);
        const len = view.getUint32(at + 6);
        at += 10;
        const message = new Uint8Array(msg, at, len);
        at += len;
        const p = slot.pending.get(id);
        if (!p) continue;
        slot.pending.delete(id);
        p.resolve(index >= 0 ? { index, message } : undefined);
      }
    });
    const lost = () => {
      if (slots[i] === slot) slots[i] = undefined;
      const held = [...slot.pending.values()];
      slot.pending.clear();
      slot.batch = [];
      if (!closed) failures++;
      settleInThread(held);
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    slots[i] = slot;
    return slot;
  }

  /** The key's number on this worker (a u16), sent to it with the next batch the first time. */
  function keyId(slot: Slot, b64: string): number {
    let n = slot.keyIds.get(b64);
    if (n === undefined) {
      n = slot.keyIds.size;
      slot.keyIds.set(b64, n);
      slot.newKeys.push(b64);
    }
    return n;
  }

  function flush() {
    flushScheduled = false;
    for (const slot of flushQueue.splice(0)) {
      const batch = slot.batch;
      const newKeys = slot.newKeys;
      slot.batch = [];
      slot.newKeys = [];
      if (batch.length === 0) continue;
      let size = 0;
      for (const j of batch) size += 9 + j.keys.length * 2 + j.cipher.length;
      const buf = new ArrayBuffer(size);
      const view = new DataView(buf);
      const bytes = new Uint8Array(buf);
      let at = 0;
      for (const j of batch) {
        view.setUint32(at, j.id);
        view.setUint8(at + 4, j.keys.length / 2);
        at += 5;
        for (const k of j.keys) {
          view.setUint16(at, k);
          at += 2;
        }
        view.setUint32(at, j.cipher.length);
        at += 4;
        bytes.set(j.cipher, at);
        at += j.cipher.length;
      }
      try {
        slot.worker.postMessage({ buf, newKeys }, [buf]);
      } catch {
        // The worker is gone: its 'exit' settles what it held, these included.
      }
    }
  }

  return {
    get size() {
      return opts.size;
    },
    /**
     * Tries `keypairs` in order on a worker; resolves with the first that opens `cipher`, or
     * undefined when none does.
     */
    openFirst(cipher: Uint8Array, keypairs: readonly BoxKeypair[]): Promise<OpenedBox | undefined> {
      if (closed || keypairs.length === 0 || keypairs.length > MAX_PAIRS)
        return Promise.resolve(opts.fallback(cipher, keypairs));
      const i = turn++ % opts.size;
      const slot = slots[i] ?? spawn(i);
      // A worker numbers keys with 16 bits: one that has been sent 65,536 (some 30,000 merchants'
      // worth) leaves the rest to the main thread rather than grow.
      if (!slot || slot.keyIds.size + 2 * keypairs.length > 0xffff)
        return Promise.resolve(opts.fallback(cipher, keypairs));
      return new Promise((resolve, reject) => {
        const id = nextId;
        nextId = (nextId + 1) >>> 0;
        const keys: number[] = [];
        for (const k of keypairs) keys.push(keyId(slot, k.publicKey), keyId(slot, k.secretKey));
        slot.pending.set(id, { resolve, reject, cipher, keypairs });
        if (slot.batch.length === 0) flushQueue.push(slot);
        slot.batch.push({ id, cipher, keys });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    /** Stops the workers; requests still held are opened on the main thread. */
    async close(): Promise<void> {
      closed = true;
      const live = slots.filter((s): s is Slot => s !== undefined);
      slots.fill(undefined);
      await Promise.all(live.map((s) => s.worker.terminate().catch(() => 0)));
    },
  };
}

export type CryptoWorkerPool = ReturnType<typeof createCryptoWorkerPool>;
