import { parentPort, workerData } from 'node:worker_threads';
import sodium from 'libsodium-wrappers';
import { createFastSealer } from './fast-seal.mjs';

/** Seals a slice of the bench's order pool on another core (see sealed-pool.ts). Plain Node, no loader. */
const { appKey, plaintexts } = /** @type {{ appKey: string; plaintexts: string[] }} */ (workerData);
await sodium.ready;
const sealer = createFastSealer(appKey);
parentPort?.postMessage(plaintexts.map((p) => sealer.seal(p)));
