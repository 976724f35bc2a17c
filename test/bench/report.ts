import type { BenchReport, Row, Target } from './harness.js';

const fmtTarget = (t: Target | undefined) =>
  t ? `${t.op === '>=' ? '≥' : '≤'} ${t.value.toLocaleString('en')}` : '';

/** Whether a row meets its target; undefined when it has no target or no figure. */
export function targetMet(row: Row): boolean | undefined {
  if (!row.target || row.median === null) return undefined;
  return row.target.op === '>=' ? row.median >= row.target.value : row.median <= row.target.value;
}

export function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === '×') return v.toFixed(2);
  if (unit === 'ms') return v < 10 ? v.toFixed(2) : v.toFixed(1);
  if (unit === 'MB' || unit === 's') return v.toFixed(1);
  return Math.round(v).toLocaleString('en');
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The BENCHMARKS.md text for a report. */
export function renderMarkdown(r: BenchReport, opts: { command: string }): string {
  const m = r.machine;
  const s = r.settings;
  const lines: string[] = [];
  lines.push('# Benchmarks', '');
  lines.push(
    `Written by \`${opts.command}\` on ${r.started_at.slice(0, 10)} (started ${r.started_at}; ${r.wall_seconds} s from the first sealed order to the last profile). ` +
      'Every figure below was measured in that one run against freshly started processes; none is a constant.',
    '',
  );
  lines.push('## Machine', '');
  lines.push(
    '| CPU | Cores | RAM | Node | OS | Load average before → after |',
    '|---|---:|---:|---|---|---|',
  );
  lines.push(
    `| ${cell(m.cpu)} | ${m.cores} | ${m.ram_gb} GB | ${m.node} | ${cell(m.os)} | ${m.load_before.join(' / ')} → ${m.load_after.join(' / ')} |`,
    '',
  );
  lines.push(
    `This is a shared machine with ${m.cores} cores: other jobs run on it beside the bench (the load average above says how busy it was), and the load generator shares the cores with the server it measures. Figures move between runs by tens of percent; each is the median of its rounds, and a ratio is taken per round between runs made seconds apart.`,
    '',
  );
  lines.push('## Results', '');
  lines.push(
    `Medians over ${s.rounds} round${s.rounds === 1 ? '' : 's'} unless a row says otherwise. Throughput runs: autocannon as a library, ` +
      `${s.connections} connections, pipelining 1, ${s.warmup} s warm-up then ${s.seconds} s measured; req/s counts only answers with the expected status. ` +
      'The sandbox is the built `dist/` (`node dist/mock-server/cli.js serve`), configured by environment (`LOG_LEVEL=warn`, `STORE=memory` unless a row names SQLite or PostgreSQL).',
    '',
  );
  lines.push('| Case | Figure | Median | Rounds | Target | Met |', '|---|---|---:|---|---|---|');
  for (const row of r.rows) {
    const met = targetMet(row);
    const value =
      row.median === null
        ? 'not measured'
        : `${formatValue(row.median, row.unit)} ${row.unit === '×' ? '' : row.unit}`.trim();
    const rounds = row.rounds.length > 1 ? row.rounds.map((x) => formatValue(x, row.unit)).join(' · ') : '';
    const figure = row.note ? `${row.figure} — ${row.note}` : row.figure;
    lines.push(
      `| ${cell(row.case)} | ${cell(figure)} | ${value} | ${rounds} | ${fmtTarget(row.target)} | ${met === undefined ? (row.target ? '—' : '') : met ? 'met' : '**missed**'} |`,
    );
  }
  lines.push('');
  if (r.notes.length > 0) {
    lines.push('## Checks and notes', '');
    for (const n of r.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push('## How each figure is measured', '');
  lines.push(
    `- **create-payment**: \`POST /api/v1/merchant-widget/payment\` with \`Auth-Identifier\` of the built-in merchant. Before anything is measured the bench seals up to 25,000 distinct orders (unique \`order_id\`, a \`callback_post_url\`, a \`user\`; libsodium's \`crypto_box_seal\` in worker threads), so the load generator spends no CPU on crypto while it shares the 2 cores with the server. Runs that need more transactions send the same bodies as further merchants registered with the built-in merchant's server keypair (\`order_id\` is unique per merchant), so every create is a new transaction. Each request is opened, validated against the contract, checked for a duplicate order, stored and journaled.`,
    '- **floor**: a bare `node:http` server in the same run, fed the same sealed bodies: read, trim, base64-decode, `crypto_box_seal_open` with the library the sandbox uses (sodium-native when the optional dependency is installed, as here; the libsodium-wrappers floor is measured too), answer a fixed JSON. The ratio is per round (both run back to back, alternating which goes first). The **floor on Fastify** is the same server as one Fastify route (a string body parser, no hooks; run right after the pair in each round): \`floor on Fastify / floor\` is what the framework the sandbox is built on costs by itself, \`create / floor on Fastify\` what the sandbox\'s own work on a create costs (authentication, contract validation, URL and duplicate checks, the store, the journal, the envelope, the worker hand-off).',
    '- **status GET**, **widget page**, **bank card page**: the sandbox that served the creates, cycling over every transaction it holds. The widget page answers `303` to the bank page for a pending payment; that answer is what is counted.',
    '- **card form POST**: the form of the bank page (found through acquirer-options v2 `payment_page`, fields as served) with the approved frictionless card; every POST pays a different pending transaction. Clearing is `manual` on this sandbox so no callback traffic mixes in.',
    `- **callbacks**: a fresh sandbox per round (\`CLEARING_DELAY_MS=0\`), ${s.callbacks.toLocaleString('en')} transactions paid through \`POST /__admin/transactions/{hash}/pay\` at full speed; each clears at once and its callback goes to a local receiver that acknowledges with \`{"status":"ok"}\`. *Stream* counts deliveries from the first pay request to the last callback received; end-to-end latency is from the pay request leaving the client to its callback arriving. *Drain* (first round only) holds the receiver until all ${s.callbacks.toLocaleString('en')} callbacks are queued, then opens it and times the outbox alone.`,
    `- **10 % failing**: the receiver answers 500 to a seeded 10 % of attempts; \`CALLBACK_TIME_SCALE=0.001\` compresses the documented 15 s … 60 min schedule. The bench checks, by \`X-Ktpay-Delivery-Id\` and \`X-Ktpay-Attempt\`, that every paid transaction got exactly one delivery, acknowledged once, with attempt numbers 1…n and no gaps, and that the sandbox's admin API agrees.`,
    `- **memory**: a fresh sandbox per store; ${s.memory_transactions.toLocaleString('en')} creates through HTTP, then the RSS of the server process at rest, 1.5 s after the last request (\`/proc/<pid>/status\` VmRSS; peak is VmHWM, the most it held during the creates), which is the figure compared with the target. The sandbox gives memory back by itself once 0.3 s pass without a request after traffic that grew its RSS by 4 MB or more since the last time (idle crypto workers stop, then full GCs; \`mock-server/shared/at-rest.ts\`): that is in the figure, and so is the bench's own read of the full journal after the creates, which comes before the 1.5 s. The RSS above the V8 heap is mostly the \`node\` binary's mapped code (~44 MB) and memory glibc's malloc keeps after the burst without using it (about 20 MB with the crypto worker; \`node --import tsx test/bench/memory-case.ts --trim\` shows it). The process is started with \`--inspect=127.0.0.1:0\` (listening only), so that afterwards the bench can force one full GC through the DevTools protocol and give the RSS of what is really kept. The journal is the default ring (1,000 entries), full long before the end.`,
    `- **startup**: \`spawn()\` of \`node dist/mock-server/cli.js serve\` until the first \`200\` from \`/__admin/health\` (polled every 2 ms), ${s.startup_samples} times. **npm start**: the same with \`npm start\` run from the project root, npm's own start included (its process group is stopped after each sample).`,
    '- **crypto workers**: the sandbox runs with its defaults, so on 2 cores one worker thread opens the sealed bodies (`CRYPTO_WORKERS`, README); the floor is one thread, as before.',
    "- **peers** (`npm run bench -- --peers` only): Prism and WireMock are installed with `npm install` into a folder of their own under the system temp folder (not the project's dependencies; the versions are in the rows), WireMock run as `java -jar` on its standalone jar from the `wiremock` package (Java 17 or later; without it the row says so and Prism is still measured). Both get a stub equivalent to the status GET: any `GET /api/v1/merchant-widget/payment/{40 hex}` answers 200 `application/json` with the very body the sandbox gave for one of its transactions (WireMock: one mapping, request journal on as by default; Prism: an OpenAPI 3.0 document with that body as the example). The peers serve a canned body; the sandbox does the real lookup, owner check and journal. Each peer first gets 3 s of the same GETs as a warm-up (the JVM's JIT), then each round runs the sandbox's status GET and each peer's back to back, the order rotating, and the ratio is per round. Peer startup is spawn until the first 200 on the stubbed GET, each peer alone. In the same rounds, a bare node:http server answers the same GETs with the same canned body (test/bench/canned-status-server.ts: no routing, lookup or framework); `ceiling / peer` is the most any Node server can show against that peer with this load generator on this machine, so it says whether a peer target can be met here at all.",
    "- **PostgreSQL store** (issue 17): the bench starts a throwaway PostgreSQL server (`initdb` into a temporary directory with the server binaries found on the machine, removed afterwards; `fsync` and `synchronous_commit` off, since nothing in it outlives the run, so a durable server's flush per commit is not in these figures) with one database, and three sandboxes on it (`STORE=postgres://…`). Three configurations run side by side and are measured in turn, the order alternating each round: the memory store (the baseline, a fourth sandbox), *1 replica* (the first of the three, addressed straight; the two others idle) and *3 replicas* (all three behind the cluster test's round-robin front, `test/cluster/round-robin.ts`, a `node:http` proxy in a process of its own). All three first get one unmeasured pass at once (create-payment, then status GET, 6 × the warm-up each); then in every round one create-payment and one status GET run of the rows' connections, duration and sealed orders (no warm-up per run: the pass did that). *The p99 the database adds* is the one-replica p99 minus the memory store's, paired by round. Each row also gives the CPU time per request of every process involved, from `/proc`: the sandbox(es), the PostgreSQL server with all its backends, the front, the bench process.",
    `- **callbacks across 3 replicas**: per round, ${s.postgres_callbacks.toLocaleString('en')} transactions created (straight on one replica, unmeasured) and then paid through the front at full speed (\`CLEARING_DELAY_MS=0\`); the replicas clear and deliver from one outbox in the database, each attempt under a lease. An unmeasured round of 2 × connections pays comes first. Counted like the stream above, from the first pay sent to the last callback received. Checked on both sides: the receiver got exactly one delivery per paid transaction, at attempt 1, acknowledged once, and the database holds exactly one delivery row per paid transaction, acknowledged after one attempt by a named replica.`,
    `- **What ${m.cores} cores can show of a cluster**: the replicas, PostgreSQL, the front and the load generator all share this machine's ${m.cores} cores. The PostgreSQL rows therefore show that the store and the cluster stay correct under load (any replica answers; no callback lost, doubled or made by two replicas) and what a request costs with the database behind it (CPU per request on each side, the added p99). They cannot show horizontal scaling: the three replicas compete with each other and with PostgreSQL for the same CPU, and the front's extra hop and the two extra connection pools cost CPU of their own, so three replicas are not expected to serve more requests per second than one here. A request through the front also passes four processes (load generator, front, replica, PostgreSQL), each waiting for a core, so the 3-replica figures are the most sensitive to anything else running on the machine. Scaling out needs replicas on cores or machines of their own and a database with room to spare; that is not measured here.`,
    '- **runner**: `ktpay-mock run` with the built-in suite against `test/fixtures/merchants/correct/`, spawn to exit; once one scenario at a time, once with `--parallel` (each scenario its own order, sandbox scenarios scoped to it). The shop gives up on a silent gateway after 1.5 s, which bounds the `create-timeout` scenario.',
    '',
  );
  if (r.evidence.length > 0) {
    lines.push('## Profile evidence for missed targets', '');
    lines.push(
      'Each missed target above was profiled in the same run with `node --cpu-prof` (sampled wall time of the server process; system calls include time the process waited for a core). ' +
        'Reproduce one case with `node --import tsx test/bench/profile-case.ts --case create|status|callbacks|startup`.',
      '',
    );
    for (const ev of r.evidence) {
      lines.push(`### ${ev.case}`, '', `${ev.what}; ${ev.sampled_ms.toLocaleString('en')} ms sampled.`, '');
      lines.push('| Self time by package / file | ms | share |', '|---|---:|---:|');
      for (const l of ev.files)
        lines.push(
          `| ${cell(l.what)} | ${Math.round(l.ms).toLocaleString('en')} | ${(100 * l.share).toFixed(1)} % |`,
        );
      lines.push('');
      lines.push("| Inclusive time, the sandbox's own functions | ms | share |", '|---|---:|---:|');
      for (const l of ev.functions)
        lines.push(
          `| \`${cell(l.what)}\` | ${Math.round(l.ms).toLocaleString('en')} | ${(100 * l.share).toFixed(1)} % |`,
        );
      lines.push('');
    }
  }
  return lines.join('\n');
}

/** A compact plain-text table for the terminal. */
export function renderText(r: BenchReport): string {
  const rows = r.rows.map((row) => {
    const met = targetMet(row);
    return [
      row.case,
      row.figure,
      row.median === null ? `n/a: ${row.note ?? ''}` : `${formatValue(row.median, row.unit)} ${row.unit}`,
      row.target ? `${fmtTarget(row.target)} ${met === undefined ? '' : met ? 'met' : 'MISSED'}` : '',
    ];
  });
  const w = [0, 1, 2].map((i) => Math.min(60, Math.max(...rows.map((x) => x[i]!.length))));
  return rows.map((x) => x.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c)).join('  ')).join('\n');
}
