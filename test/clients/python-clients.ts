import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import { runClient, whenPresent } from './matrix.js';

/**
 * Python 3 clients, sealing with PyNaCl (Debian python3-nacl, python3-requests). Debian's
 * /usr/bin/python3 is used on purpose: a python3 earlier on PATH (pyenv, a venv) may lack them.
 */
const PYTHON = '/usr/bin/python3';
const PROGRAM = 'test/clients/programs/plan_client.py';

const nacl = foreignRuntime(
  'Python 3 with PyNaCl at /usr/bin/python3 (apt-get install python3-nacl)',
  'Python client matrix',
  commandSucceeds(PYTHON, ['-c', 'import nacl.public']),
);
const requests =
  nacl &&
  foreignRuntime(
    'Python requests at /usr/bin/python3 (apt-get install python3-requests)',
    'Python client matrix, requests',
    commandSucceeds(PYTHON, ['-c', 'import requests']),
  );

export const PYTHON_CLIENTS = whenPresent(nacl, [
  {
    name: 'urllib.request',
    run: (sandbox, plan) => runClient(PYTHON, [PROGRAM, 'urllib'], sandbox, plan),
    // urllib adds this to any request with data.
    sent: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  {
    name: 'requests',
    run: (sandbox, plan) => runClient(PYTHON, [PROGRAM, 'requests'], sandbox, plan),
    sent: { 'content-type': undefined },
    present: requests,
  },
]);
