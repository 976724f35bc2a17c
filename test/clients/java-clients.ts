import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import { runClient, whenPresent } from './matrix.js';

/**
 * Java 17's java.net.http.HttpClient, launched from source (`java PlanClient.java`, which needs the
 * jdk.compiler module: Debian's openjdk-17-jre-headless ships it). The JDK has no libsodium, so the
 * bodies are sealed by `ktpay-mock seal` (the built CLI in dist/) before the client starts.
 */
const PROGRAM = 'test/clients/programs/PlanClient.java';

const java = foreignRuntime(
  'Java 17+ that runs single-file source programs (apt-get install openjdk-17-jre-headless)',
  'Java client matrix',
  commandSucceeds('java', ['--list-modules']) &&
    commandSucceeds('sh', ['-c', 'java --list-modules | grep -q "^jdk.compiler@"']),
);

export const JAVA_CLIENTS = whenPresent(java, [
  {
    name: 'java.net.http.HttpClient',
    // C1 only: a short program, and about half the CPU of the default tiered JIT (3.4 s -> 1.9 s).
    run: (sandbox, plan) => runClient('java', ['-XX:TieredStopAtLevel=1', PROGRAM], sandbox, plan),
    // HttpClient prefers HTTP/2: on http:// it asks for an h2c upgrade with each request, and takes
    // the sandbox's HTTP/1.1 answer.
    sent: { 'content-type': undefined, upgrade: 'h2c' },
    presealed: true,
    client: { client: 'java.net.http.HttpClient', http_version: 'HTTP_2' },
  },
]);
