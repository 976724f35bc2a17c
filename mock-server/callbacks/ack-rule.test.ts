import { describe, expect, it } from 'vitest';
import { judgeAnswer } from './ack-rule.js';

describe('judgeAnswer: the callback acknowledgement rule', () => {
  it.each([
    [200, 'application/json', '{"status":"ok"}'],
    [201, 'application/json; charset=utf-8', '{"status":"ok"}'],
    [299, 'Application/JSON', ' {\n "status" : "ok" }\n'],
  ])('%i %s %j acknowledges', (status, type, body) => {
    expect(judgeAnswer(status, type, body)).toEqual({
      acknowledged: true,
      reason: `acknowledged: ${status} application/json {"status":"ok"}`,
    });
  });

  it.each([
    [
      200,
      'application/json',
      '{"status":"OK"}',
      'answered 200 but "status" is "OK", not "ok": "{\\"status\\":\\"OK\\"}"',
    ],
    [200, 'application/json', '{}', 'answered 200 but "status" is missing, not "ok": "{}"'],
    [
      200,
      'application/json',
      '["ok"]',
      'answered 200 but the body is not the object {"status":"ok"}: "[\\"ok\\"]"',
    ],
    [200, 'application/json', 'ok', 'answered 200 but the body is not JSON: "ok"'],
    [200, 'application/json', '', 'answered 200 but the body is not JSON: ""'],
    [
      200,
      'application/json',
      '{"status":"ok","x":1}',
      'answered 200 with extra fields (x); the ack must be exactly {"status":"ok"}',
    ],
    [
      200,
      'text/plain',
      '{"status":"ok"}',
      'answered 200 with Content-Type text/plain; the ack must be application/json {"status":"ok"}',
    ],
    [
      200,
      undefined,
      '{"status":"ok"}',
      'answered 200 with Content-Type (none); the ack must be application/json {"status":"ok"}',
    ],
    [
      200,
      'application/jsonp',
      '{"status":"ok"}',
      'answered 200 with Content-Type application/jsonp; the ack must be application/json {"status":"ok"}',
    ],
    [
      301,
      'application/json',
      '{"status":"ok"}',
      'answered 301 (a redirect); redirects are not followed, the callback URL must answer itself',
    ],
    [
      404,
      'application/json',
      '{"status":"ok"}',
      'answered HTTP 404; only a 2xx answer can acknowledge a callback',
    ],
    [
      500,
      'application/json',
      '{"status":"ok"}',
      'answered HTTP 500; only a 2xx answer can acknowledge a callback',
    ],
    [
      101,
      'application/json',
      '{"status":"ok"}',
      'answered HTTP 101; only a 2xx answer can acknowledge a callback',
    ],
  ])('%i %s %j fails', (status, type, body, reason) => {
    expect(judgeAnswer(status, type, body)).toEqual({ acknowledged: false, reason });
  });

  it('keeps long bodies out of the reason', () => {
    const { reason } = judgeAnswer(200, 'application/json', `{"status":"${'x'.repeat(500)}"}`);
    expect(reason.length).toBeLessThan(700);
    expect(reason).toMatch(/…$/);
  });
});
