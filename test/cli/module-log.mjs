/* global process */
// `node --import ./module-log.mjs …`: appends the URL of every ES module the process loads to the
// file named by MODULE_LOG, so a test can tell what a command imported (and what it did not).
import { register } from 'node:module';

register('./module-log-hooks.mjs', import.meta.url, { data: { file: process.env.MODULE_LOG } });
