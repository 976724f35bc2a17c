import { describe, expect, it } from 'vitest';
import { judgeHandled, leakIn, unreachable } from './handled-failure.js';

const ACCEPTED = [502, 503, 504];

describe('leakIn: stack traces and exception text', () => {
  const leaks: [string, string][] = [
    [
      'node',
      "TypeError: Cannot read properties of undefined (reading 'hash')\n    at checkout (/srv/shop/src/checkout.js:41:17)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
    ],
    ['node ESM frame only', 'oops\n    at file:///app/server.mjs:10:3'],
    ['node error in JSON', '{"error":"GatewayError: ktpay refused POST /payment: 5000105"}'],
    ['express stack in JSON', '{"message":"boom","stack":"Error: boom\\n    at x (/a.js:1:1)"}'],
    [
      'python',
      'Traceback (most recent call last):\n  File "/app/views.py", line 88, in checkout\n    raise GatewayError(e)\n',
    ],
    [
      'java',
      'java.lang.IllegalStateException: gateway down\n\tat kz.shop.Checkout.pay(Checkout.java:57)\n\tat kz.shop.Web.handle(Web.java:12)',
    ],
    ['kotlin frame', 'failed\n    at kz.shop.PayService.create(PayService.kt:30)'],
    [
      'php',
      '<b>Fatal error</b>: Uncaught GuzzleHttp\\Exception\\ServerException: Server error in /var/www/vendor/guzzle/src/Exception/RequestException.php:113\nStack trace:\n#0 /var/www/app/Pay.php(41): ...',
    ],
    ['php on line', 'Warning: Undefined array key "hash" in /var/www/pay.php on line 12'],
    ['laravel trace list', '{"message":"Server Error","trace":[{"file":"/var/www/app.php","line":3}]}'],
    [
      '.NET',
      'System.NullReferenceException: Object reference not set to an instance of an object.\n   at Shop.Checkout.Pay() in C:\\src\\Checkout.cs:line 27',
    ],
    ['ruby', "app/controllers/checkout_controller.rb:14:in `create'"],
    ['go', 'panic: runtime error: invalid memory address\n\ngoroutine 1 [running]:\nmain.main()'],
  ];
  for (const [stack, body] of leaks) it(`finds ${stack}`, () => expect(leakIn(body), body).toBeDefined());

  const clean = [
    '{"order_id":"ORD-1","status":"payment_unavailable","retryable":true,"message":"Оплата временно недоступна, попробуйте ещё раз через минуту.","gateway":"ktpay refused POST /payment: 5000105 Непредвиденная ошибка"}',
    '{"error":"payment_unavailable","message":"The payment service is unavailable. Try again in a minute."}',
    'Error: try again later',
    '<!doctype html><html><body><h1>502 Bad Gateway</h1><p>Оплата временно недоступна</p></body></html>',
    '{"error":"upstream timeout","trace":"4bf92f3577b34da6a3ce929d0e0e4736"}',
    'Gateway timeout at 12:30:45, please retry',
  ];
  for (const body of clean) it(`passes ${body.slice(0, 50)}…`, () => expect(leakIn(body)).toBeUndefined());
});

describe('judgeHandled', () => {
  const body = '{"error":"payment_unavailable","retryable":true}';

  it('a 502, 503 or 504 with a body is a handled upstream failure; below 500 passes', () => {
    for (const status of [502, 503, 504, 200, 201, 303, 409, 422])
      expect(judgeHandled({ status, text: body }, ACCEPTED).ok, String(status)).toBe(true);
  });

  it('a 500, an empty 5xx, another 5xx, a leak or a dropped connection is merchant_5xx', () => {
    const crashes = [
      { status: 500, text: body },
      { status: 502, text: '' },
      { status: 503, text: '  \n' },
      { status: 501, text: body },
      { status: 507, text: body },
      { status: 502, text: 'Error: x\n    at y (/srv/a.js:1:2)' },
      { status: 200, text: 'Traceback (most recent call last):\n  File "a.py", line 1' },
      { dropped: 'UND_ERR_SOCKET other side closed' },
    ];
    for (const a of crashes) {
      const v = judgeHandled(a, ACCEPTED);
      expect(v.ok, JSON.stringify(a)).toBe(false);
      if (!v.ok) expect(v.check).toBe('merchant_5xx');
    }
    const dropped = judgeHandled({ dropped: 'ECONNRESET' }, ACCEPTED);
    expect(dropped.ok || dropped.why).toMatch(/dropped the connection instead of answering \(ECONNRESET\)/);
  });

  it('the accepted list is the check config’s: 504 fails when only 502 and 503 are accepted', () => {
    const v = judgeHandled({ status: 504, text: body }, [502, 503]);
    expect(v.ok).toBe(false);
    expect(v.ok || v.why).toMatch(/504, which is not a handled gateway failure here \(accepted: 502, 503/);
    expect(judgeHandled({ status: 503, text: body }, [502, 503]).ok).toBe(true);
  });

  it('tells a refused connection (start the shop) from a dropped one (a crash)', () => {
    expect(unreachable('ECONNREFUSED')).toBe(true);
    expect(unreachable('ENOTFOUND')).toBe(true);
    expect(unreachable('UND_ERR_SOCKET')).toBe(false);
    expect(unreachable('ECONNRESET')).toBe(false);
    expect(unreachable(undefined)).toBe(false);
  });
});
