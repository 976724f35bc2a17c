import { parentPort, workerData } from 'node:worker_threads';
import sodium from 'libsodium-wrappers';
import { createFastSealer } from './fast-seal.js';

/** Seals a slice of the bench's order pool on another core (see sealed-pool.ts). */
const { appKey, plaintexts } = workerData as { appKey: string; plaintexts: string[] };
await sodium.ready;
const sealer = createFastSealer(appKey);
parentPort?.postMessage(plaintexts.map((p) => sealer.seal(p)));
