import { CURL_CLIENTS } from './curl-clients.js';
import { JAVA_CLIENTS } from './java-clients.js';
import { describeClientMatrix } from './matrix.js';
import { NODE_CLIENTS } from './node-clients.js';
import { PHP_CLIENTS } from './php-clients.js';
import { PYTHON_CLIENTS } from './python-clients.js';

/**
 * Issue 15 §4: every client a merchant uses, each in its own process, against one pair of sandboxes
 * (reference and widget dialect) on real sockets. One file, so the sandboxes and the test worker
 * start once; a client whose runtime is missing is skipped with one line naming it.
 */
describeClientMatrix('client matrix', [
  ...CURL_CLIENTS,
  ...PHP_CLIENTS,
  ...PYTHON_CLIENTS,
  ...NODE_CLIENTS,
  ...JAVA_CLIENTS,
]);
