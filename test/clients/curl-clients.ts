import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import {
  runProcess,
  type ClientRun,
  type MatrixSandbox,
  type PlanStep,
  type StepReply,
  whenPresent,
} from './matrix.js';

/**
 * curl, as the README's first payment uses it: bodies sealed by `ktpay-mock seal` into files and
 * sent with `--data-binary @file`, which curl labels application/x-www-form-urlencoded (the
 * sandbox never form-decodes it). Each request is its own curl process.
 */
const curl = foreignRuntime(
  'curl (apt-get install curl)',
  'curl client matrix',
  commandSucceeds('curl', ['--version']),
);

/** The plan, one curl process a step (the plan's bodies are sealed already). */
async function runCurl(sandbox: MatrixSandbox, planFile: string, dir: string): Promise<ClientRun> {
  const version = (await runProcess('curl', ['--version'])).stdout.split('\n')[0]!;
  const steps = readFileSync(planFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PlanStep);
  const hashes = new Map<string, string>();
  const replies = new Map<string, StepReply>();
  for (const step of steps) {
    const path = step.path.replace(/\{(\w+)\}/g, (_, id: string) => hashes.get(id) ?? '');
    const file = (ext: string) => join(dir, `${sandbox.dialect}-${step.id}.${ext}`);
    const args = ['-sS', '-X', step.method, `${sandbox.url}${path}`, '-D', file('head'), '-o', file('out')];
    if (step.auth) args.push('-H', `Auth-Identifier: ${step.auth}`);
    if (step.type) args.push('-H', `Content-Type: ${step.type}`);
    if (step.scenario) args.push('-H', `X-Ktpay-Mock-Scenario: ${step.scenario}`);
    if (step.body) {
      writeFileSync(file('body'), step.body);
      args.push('--data-binary', `@${file('body')}`);
    }
    args.push('-w', '%{http_code}');
    const status = Number((await runProcess('curl', args)).stdout);
    // The last header block is the final response (a 100 Continue may come first).
    const head = readFileSync(file('head'), 'latin1')
      .trim()
      .split(/\r\n\r\n/)
      .pop()!;
    const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
    const body = readFileSync(file('out'));
    const found = /"transaction_hash":"([0-9a-f]{40})"/.exec(body.toString('latin1'));
    if (found) hashes.set(step.id, found[1]!);
    replies.set(step.id, {
      id: step.id,
      status,
      content_type: header('content-type'),
      content_disposition: header('content-disposition'),
      body_b64: body.toString('base64'),
    });
  }
  return { client: { id: '_client', client: 'curl', version }, replies };
}

export const CURL_CLIENTS = whenPresent(curl, [
  {
    name: 'curl --data-binary',
    run: runCurl,
    presealed: true,
    sent: { 'content-type': 'application/x-www-form-urlencoded' },
  },
]);
