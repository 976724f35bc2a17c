/** The verdict on one receiver answer. */
export interface AckVerdict {
  acknowledged: boolean;
  reason: string;
}

const ACK_TEXT = '{"status":"ok"}';

const preview = (body: string) =>
  body.length > 80 ? `${JSON.stringify(body.slice(0, 80))}…` : JSON.stringify(body);

/**
 * The acknowledgement rule [doc, spec §10]: only a 2xx answer whose Content-Type is
 * `application/json` and whose body is the JSON object `{"status":"ok"}` (whitespace aside, no
 * other fields) acknowledges a callback. Anything else is a failed attempt, explained in plain
 * words for the attempt log.
 *
 * @example
 * judgeAnswer(200, 'application/json', '{"status":"ok"}'); // { acknowledged: true, … }
 * judgeAnswer(200, 'text/plain', 'OK').reason; // 'answered 200 with Content-Type text/plain; …'
 */
export function judgeAnswer(status: number, contentType: string | undefined, body: string): AckVerdict {
  // The common case, decided without parsing: the exact ack text from a well-behaved receiver.
  if (
    body === ACK_TEXT &&
    status >= 200 &&
    status < 300 &&
    (contentType === 'application/json' || contentType === 'application/json; charset=utf-8')
  ) {
    return { acknowledged: true, reason: `acknowledged: ${status} application/json {"status":"ok"}` };
  }
  if (status >= 300 && status < 400) {
    return {
      acknowledged: false,
      reason: `answered ${status} (a redirect); redirects are not followed, the callback URL must answer itself`,
    };
  }
  if (status < 200 || status >= 300) {
    return {
      acknowledged: false,
      reason: `answered HTTP ${status}; only a 2xx answer can acknowledge a callback`,
    };
  }
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return {
      acknowledged: false,
      reason: `answered ${status} with Content-Type ${mediaType || '(none)'}; the ack must be application/json {"status":"ok"}`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { acknowledged: false, reason: `answered ${status} but the body is not JSON: ${preview(body)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      acknowledged: false,
      reason: `answered ${status} but the body is not the object {"status":"ok"}: ${preview(body)}`,
    };
  }
  const keys = Object.keys(parsed);
  const value = (parsed as Record<string, unknown>).status;
  if (value !== 'ok') {
    return {
      acknowledged: false,
      reason: `answered ${status} but "status" is ${value === undefined ? 'missing' : JSON.stringify(value)}, not "ok": ${preview(body)}`,
    };
  }
  if (keys.length !== 1) {
    const extra = keys.filter((k) => k !== 'status').join(', ');
    return {
      acknowledged: false,
      reason: `answered ${status} with extra fields (${extra}); the ack must be exactly {"status":"ok"}`,
    };
  }
  return { acknowledged: true, reason: `acknowledged: ${status} application/json {"status":"ok"}` };
}
