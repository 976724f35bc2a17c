import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import { runClient, whenPresent } from './matrix.js';

/**
 * PHP clients (Debian's php-cli, php-curl, php-guzzlehttp-guzzle), each sealing with PHP's own
 * sodium the way the public SDK does. Guzzle is used exactly as the SDK uses it (no handler given):
 * on a PHP with the curl extension it picks its curl handler, and on one without (`php -n` on
 * Debian) its stream handler, which sends `Content-Type:` with an empty value.
 */
const PROGRAM = 'test/clients/programs/plan-client.php';

const php = foreignRuntime(
  'PHP 8 CLI with the curl and sodium extensions and Guzzle (apt-get install php-cli php-curl php-guzzlehttp-guzzle)',
  'PHP client matrix',
  commandSucceeds('php', [
    '-r',
    'exit(extension_loaded("curl") && extension_loaded("sodium") && is_file("/usr/share/php/GuzzleHttp/autoload.php") ? 0 : 1);',
  ]),
);
// Debian builds sodium into PHP itself, so `php -n` (no ini, no shared extensions) is a PHP without curl.
const phpWithoutCurl =
  php &&
  foreignRuntime(
    'a PHP without the curl extension: `php -n` with sodium built in (Debian php-cli)',
    'PHP client matrix, Guzzle stream handler',
    commandSucceeds('php', [
      '-n',
      '-r',
      'exit(extension_loaded("sodium") && !extension_loaded("curl") ? 0 : 1);',
    ]),
  );

export const PHP_CLIENTS = whenPresent(php, [
  {
    name: 'Guzzle, curl handler',
    run: (sandbox, plan) => runClient('php', [PROGRAM, 'guzzle'], sandbox, plan),
    sent: { 'content-type': undefined, 'user-agent': 'GuzzleHttp/7' },
    client: { handler: 'curl', curl_extension: true },
  },
  {
    name: 'file_get_contents with a stream context',
    run: (sandbox, plan) => runClient('php', [PROGRAM, 'file-get-contents'], sandbox, plan),
    // PHP's http:// wrapper adds this (with a notice) to any request with content.
    sent: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  {
    name: 'Guzzle, stream handler (PHP without curl)',
    run: (sandbox, plan) => runClient('php', ['-n', PROGRAM, 'guzzle'], sandbox, plan),
    // StreamHandler adds both: an empty Content-Type keeps PHP's http:// wrapper from adding its own.
    sent: { 'content-type': '', connection: 'close', 'user-agent': 'GuzzleHttp/7' },
    client: { handler: 'stream', curl_extension: false },
    present: phpWithoutCurl,
  },
]);
