import { startRoundRobin } from '../cluster/round-robin.js';

/*
 * The cluster test's round-robin front (test/cluster/round-robin.ts) as a process of its own, for
 * the bench's 3-replica rows: a load balancer is a process apart from the load generator, so the
 * bench process (autocannon and the callback receiver) does not proxy too. The answers say which
 * replica served them (`x-served-by`).
 *
 * Run: PORT=… REPLICAS=http://127.0.0.1:…,http://127.0.0.1:… node --import tsx test/bench/round-robin-front.ts
 */

const replicas = (process.env.REPLICAS ?? '').split(',').filter((u) => u !== '');
if (replicas.length === 0) throw new Error('REPLICAS names no replica (comma-separated URLs)');
const front = await startRoundRobin(replicas, { port: Number(process.env.PORT ?? 0) });
const stop = () => void front.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
