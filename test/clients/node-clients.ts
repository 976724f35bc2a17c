import { runClient, type MatrixClient } from './matrix.js';

/** Node clients in their own process, sealing with libsodium-wrappers as the public JS widget does. */
const PROGRAM = 'test/clients/programs/plan-client.mjs';

export const NODE_CLIENTS: MatrixClient[] = [
  {
    name: 'fetch',
    run: (sandbox, plan) => runClient(process.execPath, [PROGRAM, 'fetch'], sandbox, plan),
    sent: { 'content-type': 'text/plain;charset=UTF-8' },
  },
  {
    name: 'node:http, chunked body',
    run: (sandbox, plan) => runClient(process.execPath, [PROGRAM, 'http-chunked'], sandbox, plan),
    sent: { 'content-type': undefined, 'transfer-encoding': 'chunked' },
  },
];
