import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { BoxKeypair } from './sealed-box.js';

/** Which of the keypairs offered opened a box, and its plaintext as UTF-8 text. */
export interface OpenedBox {
  index: number;
  plaintext: string;
}

/** The library a worker opens boxes with, by the path `require` resolves it to. */
export interface WorkerLibrary {
  kind: 'sodium-native' | 'libsodium-wrappers';
  path: string;
}

/**
 * The worker's code (CommonJS, run with `eval`, so the bundled CLI needs no worker file of its own
 * beside it). It loads the library from the absolute path it is given and keeps the keys it has
 * been sent, by number.
 *
 * A batch is one buffer, made on the main thread, sent and sent back (transferred both ways, never
 * copied). Per request: `u32 id, u8 pairs, u8 result, u16 key number × 2 × pairs, u32 cipher
 * length, u32 plaintext length, cipher bytes`. The worker writes `result` (the pair that opened
 * the box, 255 for none) and the plaintext over the cipher it came from, through one scratch
 * buffer of its own. So it allocates nothing per request: objects and strings cloned per message
 * were most of the hand-off's cost in the bench's profile, and memory the worker thread allocates
 * lands in a malloc arena of its own that the process does not give back.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const lib = require(workerData.path);
const native = workerData.kind === 'sodium-native';
const keys = [];
const SEAL = lib.crypto_box_SEALBYTES;
let scratch = Buffer.alloc(4096);
function openInto(cipher, pk, sk) {
  const len = cipher.length - SEAL;
  if (len < 0) return -1;
  if (native) {
    if (scratch.length < len) scratch = Buffer.alloc(Math.max(len, scratch.length * 2));
    return lib.crypto_box_seal_open(scratch.subarray(0, len), cipher, pk, sk) ? len : -1;
  }
  try {
    const m = lib.crypto_box_seal_open(cipher, pk, sk);
    if (scratch.length < m.length) scratch = Buffer.alloc(Math.max(m.length, scratch.length * 2));
    scratch.set(m);
    return m.length;
  } catch {
    return -1;
  }
}
function serve() {
  parentPort.on('message', ({ buf, used, newKeys }) => {
    for (const k of newKeys) keys.push(new Uint8Array(Buffer.from(k, 'base64')));
    const view = new DataView(buf);
    const bytes = new Uint8Array(buf);
    for (let at = 0; at < used; ) {
      const pairs = view.getUint8(at + 4);
      const keyAt = at + 6;
      const lenAt = keyAt + pairs * 4;
      const cipherLen = view.getUint32(lenAt);
      const dataAt = lenAt + 8;
      const cipher = bytes.subarray(dataAt, dataAt + cipherLen);
      let result = 255;
      let len = 0;
      for (let i = 0; i < pairs; i++) {
        const n = openInto(cipher, keys[view.getUint16(keyAt + i * 4)], keys[view.getUint16(keyAt + i * 4 + 2)]);
        if (n >= 0) { result = i; len = n; break; }
      }
      view.setUint8(at + 5, result);
      view.setUint32(lenAt + 4, len);
      if (result !== 255) bytes.set(scratch.subarray(0, len), dataAt);
      at = dataAt + cipherLen;
    }
    parentPort.postMessage({ buf, used }, [buf]);
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

/** Batch buffers kept for reuse per worker, and the smallest one made. */
const SPARE_BUFFERS = 4;
const MIN_BATCH_BYTES = 64 * 1024;

/** Most keypairs one request may offer (a u8 in a batch, 255 meaning none opened it). */
const MAX_PAIRS = 254;

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
 * for a burst). Workers start with the first request (requests that come before a worker has
 * loaded its library are opened on the main thread, through `fallback`), are unref'd (they never
 * keep the process alive), and a worker that dies is replaced; what it held is opened on the main
 * thread too, so nothing accepted is lost.
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
    /** Batch buffers back from the worker, reused: no allocation per batch once warm. */
    spare: ArrayBuffer[];
    /** The worker has loaded its library; until then requests are opened on the main thread. */
    ready: boolean;
    /** Resolves when it is ready, or when it is gone. */
    started: Promise<void>;
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
    let started = () => undefined as void;
    const slot: Slot = {
      started: new Promise<void>((resolve) => (started = resolve)),
      worker,
      pending: new Map(),
      batch: [],
      keyIds: new Map(),
      newKeys: [],
      spare: [],
      ready: false,
    };
    worker.on('message', (msg: 'ready' | { buf: ArrayBuffer; used: number }) => {
      if (msg === 'ready') {
        slot.ready = true;
        started();
        return;
      }
      const { buf, used } = msg;
      const view = new DataView(buf);
      for (let at = 0; at < used;) {
        const id = view.getUint32(at);
        const pairs = view.getUint8(at + 4);
        const result = view.getUint8(at + 5);
        const lenAt = at + 6 + pairs * 4;
        const cipherLen = view.getUint32(lenAt);
        const len = view.getUint32(lenAt + 4);
        const dataAt = lenAt + 8;
        at = dataAt + cipherLen;
        const p = slot.pending.get(id);
        if (!p) continue;
        slot.pending.delete(id);
        // Text now, so nothing keeps a view of the buffer, which the next batch reuses.
        p.resolve(
          result === 255
            ? undefined
            : { index: result, plaintext: Buffer.from(buf, dataAt, len).toString('utf8') },
        );
      }
      if (slot.spare.length < SPARE_BUFFERS) slot.spare.push(buf);
    });
    const lost = () => {
      const released = slots[i] !== slot; // release() or close() stopped it on purpose
      if (!released) slots[i] = undefined;
      const held = [...slot.pending.values()];
      slot.pending.clear();
      slot.batch = [];
      if (!closed && !released) failures++;
      started();
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
      for (const j of batch) size += 14 + j.keys.length * 2 + j.cipher.length;
      let buf = slot.spare.pop();
      if (!buf || buf.byteLength < size) buf = new ArrayBuffer(Math.max(size, MIN_BATCH_BYTES));
      const view = new DataView(buf);
      const bytes = new Uint8Array(buf);
      let at = 0;
      for (const j of batch) {
        view.setUint32(at, j.id);
        view.setUint8(at + 4, j.keys.length / 2);
        view.setUint8(at + 5, 255);
        at += 6;
        for (const k of j.keys) {
          view.setUint16(at, k);
          at += 2;
        }
        view.setUint32(at, j.cipher.length);
        view.setUint32(at + 4, 0);
        at += 8;
        bytes.set(j.cipher, at);
        at += j.cipher.length;
      }
      try {
        slot.worker.postMessage({ buf, used: size, newKeys }, [buf]);
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
      // While a worker starts (tens of ms, after startup or a rest) the main thread opens what
      // comes, so no request waits for a thread. A worker numbers keys with 16 bits: one that has
      // been sent 65,536 (some 30,000 merchants' worth) leaves the rest to the main thread too.
      if (!slot || !slot.ready || slot.keyIds.size + 2 * keypairs.length > 0xffff)
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
    /** Starts every worker now and resolves once each has loaded its library (or failed to). */
    async warm(): Promise<void> {
      if (closed) return;
      const all = slots.map((s, i) => s ?? spawn(i));
      await Promise.all(all.map((s) => s?.started));
    },
    /**
     * At rest: stops the workers that hold no request, giving their memory back; the next body
     * starts one again (tens of ms once). Resolves with how many were stopped.
     */
    async release(): Promise<number> {
      const idle = slots.filter(
        (s): s is Slot => s !== undefined && s.pending.size === 0 && s.batch.length === 0,
      );
      for (const s of idle) slots[slots.indexOf(s)] = undefined;
      await Promise.all(idle.map((s) => s.worker.terminate().catch(() => 0)));
      return idle.length;
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
