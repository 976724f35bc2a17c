import type autocannon from 'autocannon';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { startCallbackReceiver } from './callback-receiver.js';
import { summariseProfile } from './cpu-profile.js';
import { API, APPROVED_CARD } from './journey.js';
import { load } from './load.js';
import { startProcess } from './processes.js';
import { launches } from './run-bench.js';
import { buildSealedPool } from './sealed-pool.js';

/*
 * Profiles one bench case with `node --cpu-prof` on the built sandbox and prints where the CPU
 * goes: self time by package/file, then inclusive time by function (project code first).
 *
 *   npm run build && node --import tsx test/bench/profile-case.ts --case create|status|startup|callbacks
 */

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    case: { type: 'string', default: 'create' },
    seconds: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
  },
});
const root = values.root ?? projectPath();
const { sandbox } = launches(root, 'dist');
const dir = mkdtempSync(join(tmpdir(), 'ktpay-prof-'));
const keep = process.env.KEEP_PROFILE;
const profiled = { ...sandbox, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...sandbox.args] };
const seconds = Number(values.seconds);
const env = { LOG_LEVEL: 'warn', STORE: 'memory', CLEARING_DELAY_MS: '0' };

const receiver = await startCallbackReceiver();
const pool = await buildSealedPool({
  count: values.case === 'startup' ? 1 : 40_000,
  prefix: `prof-${Date.now().toString(36)}`,
  callbackUrl: receiver.url,
  appKey: DEFAULT_MERCHANT.app_key,
  secretKey: DEFAULT_MERCHANT.server_secret_key,
});
const sb = await startProcess(profiled, { env, readyPath: '/__admin/health' });
const hashes: string[] = [];
let next = 0;
const creates: autocannon.Request = {
  method: 'POST',
  path: `${API}/payment`,
  headers: { 'auth-identifier': DEFAULT_MERCHANT.app_id, 'content-type': 'text/plain' },
  setupRequest: (req) => {
    req.body = pool[next++ % pool.length]!.body;
    return req;
  },
  onResponse: (_s, body) => {
    const m = /"transaction_hash":"([0-9a-f]{40})"/.exec(body);
    if (m) hashes.push(m[1]!);
  },
};
let summary = '';
if (values.case === 'create') {
  const r = await load({ url: sb.url, requests: [creates], duration: seconds });
  summary = `create: ${Math.round(r.rps)} req/s`;
} else if (values.case === 'status' || values.case === 'callbacks') {
  await load({ url: sb.url, requests: [creates], amount: values.case === 'callbacks' ? 10_100 : 5000 });
  if (values.case === 'status') {
    let i = 0;
    const r = await load({
      url: sb.url,
      duration: seconds,
      requests: [
        {
          method: 'GET',
          path: `${API}/payment/${hashes[0]}`,
          headers: { 'auth-identifier': DEFAULT_MERCHANT.app_id },
          setupRequest: (req) => {
            req.path = `${API}/payment/${hashes[i++ % hashes.length]}`;
            return req;
          },
        },
      ],
    });
    summary = `status: ${Math.round(r.rps)} req/s`;
  } else {
    receiver.reset({ kind: 'ack' });
    let i = 0;
    const started = performance.now();
    await load({
      url: sb.url,
      amount: 10_000,
      requests: [
        {
          method: 'POST',
          path: `/__admin/transactions/${hashes[0]}/pay`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(APPROVED_CARD),
          setupRequest: (req) => {
            req.path = `/__admin/transactions/${hashes[i++]}/pay`;
            return req;
          },
        },
      ],
    });
    await receiver.waitForAcks(9_900, 120_000);
    summary = `callbacks: ${Math.round(receiver.stats().acknowledged / ((performance.now() - started) / 1000))} deliveries/s`;
  }
} else if (values.case === 'startup') {
  summary = `startup: ${sb.startupMs.toFixed(0)} ms (with the profiler attached)`;
}
await sb.stop();
await receiver.close();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile was written');
const top = Number(values.top);
const out = [summary, '', 'self time by package/file:'];
for (const l of summariseProfile(join(dir, file), 'file').slice(0, top))
  out.push(`  ${l.ms.toFixed(0).padStart(7)} ms ${(100 * l.share).toFixed(1).padStart(5)} %  ${l.what}`);
out.push('', 'self time by function:');
for (const l of summariseProfile(join(dir, file), 'self').slice(0, top))
  out.push(`  ${l.ms.toFixed(0).padStart(7)} ms ${(100 * l.share).toFixed(1).padStart(5)} %  ${l.what}`);
out.push('', 'inclusive time by function (project code):');
for (const l of summariseProfile(join(dir, file), 'function')
  .filter((l) => /^(\S+) (dist\/)?(mock-server|contracts)\//.test(l.what))
  .slice(0, top)) {
  out.push(`  ${l.ms.toFixed(0).padStart(7)} ms ${(100 * l.share).toFixed(1).padStart(5)} %  ${l.what}`);
}
process.stdout.write(out.join('\n') + '\n');
if (keep) process.stdout.write(`profile kept in ${dir}/${file}\n`);
else rmSync(dir, { recursive: true, force: true });
