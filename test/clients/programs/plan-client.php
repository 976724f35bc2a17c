<?php
// A merchant's PHP client for the client matrix (test/clients/php.test.ts).
//
//   php plan-client.php <guzzle|file-get-contents> <base-url> <plan.jsonl>
//
// Runs each step of the plan (one JSON object a line: id, method, path, auth, type, scenario, body,
// key) and prints one JSON line per reply: id, status, content_type, content_disposition, body_b64.
// A step with a `key` seals its body with PHP's own sodium, exactly as the public SDK
// (ktpay/ktwidget-api-php) does: base64_encode(sodium_crypto_box_seal(json_encode($data,
// JSON_UNESCAPED_UNICODE), base64_decode($key))).
// `{step}` in a path is the transaction_hash of that step's reply.
//
// `guzzle` sends like the SDK: a Client with base_uri, 'http_errors' => false, Auth-Identifier in
// the headers, the sealed text as 'body' and no Content-Type; Guzzle picks its handler itself, so
// this PHP decides it: the curl handler when the curl extension is loaded, else the stream handler
// (run with `php -n` on Debian for a PHP without curl), which sends "Content-Type:" with no value.

ini_set('display_errors', 'stderr'); // PHP's notices must not mix with the JSON lines on stdout
error_reporting(E_ALL);

[$_, $transport, $base, $planFile] = $argv;

function seal(string $json, string $key): string
{
    return base64_encode(sodium_crypto_box_seal($json, base64_decode($key)));
}

function describeClient(string $transport): array
{
    $client = ['client' => $transport, 'php' => PHP_VERSION, 'curl_extension' => extension_loaded('curl')];
    if ($transport === 'guzzle') {
        $client['guzzle'] = \GuzzleHttp\ClientInterface::MAJOR_VERSION;
        $handler = \GuzzleHttp\Utils::chooseHandler();
        // With curl, Guzzle wraps its curl handlers in a closure (Proxy); without, it is StreamHandler.
        $client['handler'] = $handler instanceof \GuzzleHttp\Handler\StreamHandler ? 'stream' : 'curl';
    }
    return $client;
}

/** @return array{0:int,1:array<string,string>,2:string} status, lower-cased headers, body */
function sendGuzzle(\GuzzleHttp\Client $client, string $method, string $path, array $headers, ?string $body): array
{
    $options = ['headers' => $headers];
    if ($body !== null) {
        $options['body'] = $body;
    }
    $res = $client->request($method, ltrim($path, '/'), $options);
    $out = [];
    foreach ($res->getHeaders() as $name => $values) {
        $out[strtolower($name)] = implode(', ', $values);
    }
    return [$res->getStatusCode(), $out, (string) $res->getBody()];
}

function sendFileGetContents(string $base, string $method, string $path, array $headers, ?string $body): array
{
    $lines = [];
    foreach ($headers as $name => $value) {
        $lines[] = "$name: $value";
    }
    $http = ['method' => $method, 'header' => implode("\r\n", $lines), 'ignore_errors' => true];
    if ($body !== null) {
        $http['content'] = $body;
    }
    $text = file_get_contents($base . $path, false, stream_context_create(['http' => $http]));
    $status = 0;
    $out = [];
    foreach ($http_response_header as $line) {
        if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) {
            $status = (int) $m[1];
            $out = [];
        } elseif (strpos($line, ':') !== false) {
            [$name, $value] = explode(':', $line, 2);
            $out[strtolower(trim($name))] = trim($value);
        }
    }
    return [$status, $out, $text === false ? '' : $text];
}

if ($transport === 'guzzle') {
    require '/usr/share/php/GuzzleHttp/autoload.php';
    $guzzle = new \GuzzleHttp\Client(['base_uri' => $base . '/', 'http_errors' => false]);
}
echo json_encode(['id' => '_client'] + describeClient($transport)), "\n";

$hashes = [];
foreach (file($planFile, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    $step = json_decode($line, true);
    $path = preg_replace_callback('/\{(\w+)\}/', fn ($m) => $hashes[$m[1]] ?? '', $step['path']);
    $headers = [];
    if ($step['auth'] !== '') {
        $headers['Auth-Identifier'] = $step['auth'];
    }
    if ($step['type'] !== '') {
        $headers['Content-Type'] = $step['type'];
    }
    if ($step['scenario'] !== '') {
        $headers['X-Ktpay-Mock-Scenario'] = $step['scenario'];
    }
    // A sealed step's JSON is rebuilt the SDK's way: json_encode(array, JSON_UNESCAPED_UNICODE), which
    // writes every "/" as "\/".
    $body = $step['body'] === '' ? null : ($step['key'] !== ''
        ? seal(json_encode(json_decode($step['body'], true), JSON_UNESCAPED_UNICODE), $step['key'])
        : $step['body']);
    [$status, $resHeaders, $text] = $transport === 'guzzle'
        ? sendGuzzle($guzzle, $step['method'], $path, $headers, $body)
        : sendFileGetContents($base, $step['method'], $path, $headers, $body);
    if (preg_match('/"transaction_hash":"([0-9a-f]{40})"/', $text, $m)) {
        $hashes[$step['id']] = $m[1];
    }
    echo json_encode([
        'id' => $step['id'],
        'status' => $status,
        'content_type' => $resHeaders['content-type'] ?? '',
        'content_disposition' => $resHeaders['content-disposition'] ?? '',
        'body_b64' => base64_encode($text),
    ]), "\n";
}
