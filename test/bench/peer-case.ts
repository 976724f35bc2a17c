import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../../mock-server/shared/project-root.js';
import type autocannon from 'autocannon';
import type { Row } from './harness.js';
import { load, type LoadResult } from './load.js';
import { preparePeers, type Peer } from './peers.js';
import { startProcess } from './processes.js';
import { median } from './stats.js';

/** The row of the bare node:http server with the canned status body (canned-status-server.ts). */
export const CEILING_CASE = 'status GET, bare node:http, canned body (the ceiling)';

/** Seconds of status GETs each peer gets once before its measured rounds. */
export const PEER_WARMUP_S = 3;

/** Issue 20's targets: the sandbox's status GET against each peer's, and startup. */
export const PEER_TARGETS = {
  status: { wiremock: 5, prism: 6 },
  startup: 5,
} as const;

export interface PeerCaseOptions {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  startupSamples: number;
  log: (line: string) => void;
  /** The sandbox that served the creates (it holds the transactions `requests` cycle over). */
  sandboxUrl: string;
  /** Status GETs cycling over the sandbox's transactions, each with its owner's Auth-Identifier. */
  requests: () => autocannon.Request[];
  /** The status path prefix, e.g. /api/v1/merchant-widget/payment/. */
  prefix: string;
  /** The sandbox's answer to one status GET, served by the peers' stubs as is. */
  body: string;
  /** The sandbox's spawn → healthy median from the startup row. */
  sandboxStartupMs: number | null;
}

/**
 * `npm run bench -- --peers`: Prism and WireMock with stubs equivalent to the status GET, measured
 * in this run beside the sandbox. Each round runs the sandbox and every peer back to back (the
 * order rotating), so a ratio compares runs seconds apart on the same machine.
 */
export async function measurePeers(o: PeerCaseOptions): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const stubDir = mkdtempSync(join(tmpdir(), 'ktpay-bench-stubs-'));
  try {
    const { peers, missing } = preparePeers({ prefix: o.prefix, body: o.body }, stubDir, o.log);
    for (const m of missing) {
      notes.push(`${m.label}: ${m.reason}`);
      rows.push(
        {
          case: `status GET, sandbox / ${m.label}`,
          figure: 'ratio of req/s',
          unit: '×',
          median: null,
          rounds: [],
          target: { op: '>=', value: PEER_TARGETS.status[m.name] },
          note: m.reason,
        },
        {
          case: `startup, ${m.label} / sandbox`,
          figure: 'ratio of startup times',
          unit: '×',
          median: null,
          rounds: [],
          target: { op: '>=', value: PEER_TARGETS.startup },
          note: m.reason,
        },
      );
    }
    if (peers.length === 0) return { rows, notes };

    // Startup first, each peer alone on the machine: spawn → the first 200 on the stubbed GET.
    const probeHash = '0'.repeat(40);
    const startups = new Map<Peer, number[]>();
    for (const peer of peers) {
      o.log(`peers: startup of ${peer.label}, ${o.startupSamples} times`);
      const times: number[] = [];
      for (let i = 0; i < o.startupSamples; i++) {
        const p = await startProcess((port) => peer.launch(port), {
          readyPath: `${o.prefix}${probeHash}`,
          timeoutMs: 120_000,
        });
        times.push(p.startupMs);
        await p.stop();
      }
      startups.set(peer, times);
    }

    // Throughput: every peer running, and the ceiling (canned-status-server.ts), the rounds
    // interleaved with the sandbox's.
    const ceiling = await startProcess(
      {
        command: process.execPath,
        args: ['--import', 'tsx', projectPath('test', 'bench', 'canned-status-server.ts')],
        cwd: projectPath(),
      },
      {
        env: { CANNED_PREFIX: o.prefix, CANNED_BODY: o.body },
        readyPath: `${o.prefix}${'0'.repeat(40)}`,
      },
    );
    const running = await Promise.all(
      peers.map(async (peer) => ({
        peer,
        proc: await startProcess((port) => peer.launch(port), {
          readyPath: `${o.prefix}${probeHash}`,
          timeoutMs: 120_000,
        }),
      })),
    );
    try {
      const sandbox: LoadResult[] = [];
      const bare: LoadResult[] = [];
      const byPeer = new Map<Peer, LoadResult[]>(peers.map((p) => [p, []]));
      const run = (url: string) =>
        load({
          url,
          duration: o.seconds,
          warmup: o.warmup,
          connections: o.connections,
          requests: o.requests(),
        });
      // The JVM (and Prism's own JIT warm-up) get a longer first warm-up than the 0.5 s per run,
      // so no peer is measured cold.
      for (const x of running) {
        o.log(`peers: ${PEER_WARMUP_S} s warm-up of ${x.peer.label}`);
        await load({
          url: x.proc.url,
          duration: PEER_WARMUP_S,
          connections: o.connections,
          requests: o.requests(),
        });
      }
      for (let r = 0; r < o.rounds; r++) {
        o.log(`peers: status GET round ${r + 1} of ${o.rounds}`);
        const order = [undefined, 'ceiling' as const, ...running];
        const shift = r % order.length;
        for (const x of [...order.slice(shift), ...order.slice(0, shift)]) {
          if (x === undefined) sandbox.push(await run(o.sandboxUrl));
          else if (x === 'ceiling') bare.push(await run(ceiling.url));
          else byPeer.get(x.peer)!.push(await run(x.proc.url));
        }
      }
      rows.push({
        case: 'status GET, sandbox (rounds beside the peers)',
        figure: 'req/s',
        unit: 'req/s',
        median: median(sandbox.map((x) => x.rps)),
        rounds: sandbox.map((x) => x.rps),
        note: `p99 ${median(sandbox.map((x) => x.p99))} ms (median of rounds)`,
      });
      rows.push({
        case: CEILING_CASE,
        figure: 'req/s',
        unit: 'req/s',
        median: median(bare.map((x) => x.rps)),
        rounds: bare.map((x) => x.rps),
        note: `p99 ${median(bare.map((x) => x.p99))} ms (median of rounds); the same body as the stubs, no routing, lookup or framework: the most a Node server answers here with this load generator`,
      });
      for (const { peer } of running) {
        const res = byPeer.get(peer)!;
        const bad = res.reduce((a, x) => a + x.bad, 0);
        if (bad > 0)
          notes.push(
            `${peer.label}: ${bad} answers were not 2xx (${JSON.stringify(res.map((x) => x.statuses))})`,
          );
        rows.push({
          case: `status GET, ${peer.label} (canned stub)`,
          figure: 'req/s',
          unit: 'req/s',
          median: median(res.map((x) => x.rps)),
          rounds: res.map((x) => x.rps),
          note: `p99 ${median(res.map((x) => x.p99))} ms (median of rounds)`,
        });
        const ratios = res.map((x, i) => sandbox[i]!.rps / x.rps);
        rows.push({
          case: `status GET, sandbox / ${peer.label}`,
          figure: 'ratio of req/s (per round)',
          unit: '×',
          median: median(ratios),
          rounds: ratios,
          target: { op: '>=', value: PEER_TARGETS.status[peer.name] },
        });
        const ceilingRatios = res.map((x, i) => bare[i]!.rps / x.rps);
        rows.push({
          case: `status GET, ceiling / ${peer.label}`,
          figure: 'ratio of req/s (per round)',
          unit: '×',
          median: median(ceilingRatios),
          rounds: ceilingRatios,
          note: `the bare node:http server's req/s over ${peer.label}'s: sandbox / ${peer.label} cannot exceed it on this machine`,
        });
      }
    } finally {
      await Promise.all([...running.map((x) => x.proc.stop()), ceiling.stop()]);
    }
    for (const peer of peers) {
      const times = startups.get(peer)!;
      const m = median(times);
      rows.push({
        case: `startup, ${peer.label}`,
        figure: `spawn → first 200 on the stubbed status GET, median of ${times.length}`,
        unit: 'ms',
        median: m,
        rounds: times,
      });
      rows.push({
        case: `startup, ${peer.label} / sandbox`,
        figure: "times the sandbox's spawn → healthy median",
        unit: '×',
        median: m !== null && o.sandboxStartupMs ? m / o.sandboxStartupMs : null,
        rounds: [],
        target: { op: '>=', value: PEER_TARGETS.startup },
        ...(o.sandboxStartupMs ? {} : { note: 'no sandbox startup figure in this run' }),
      });
    }
    return { rows, notes };
  } finally {
    rmSync(stubDir, { recursive: true, force: true });
  }
}
