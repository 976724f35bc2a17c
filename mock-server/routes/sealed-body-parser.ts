import type { FastifyInstance } from 'fastify';

/**
 * A Content-Type value Fastify's body parsing accepts: `type/subtype` (RFC 9110 tokens), then
 * optional `;` parameters. Fastify answers anything else (an empty value, `text`, `a/b/c`) with 415
 * before any parser runs.
 */
const PARSABLE_MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(?:;.*)?$/;

/**
 * Makes every body in this plugin a raw string, whatever the Content-Type (spec §2): the JS widget
 * sends text/plain, one PHP SDK application/json (still base64 text), another none at all, curl
 * `-d` application/x-www-form-urlencoded (never form-decoded here: a `+` stays a `+`).
 *
 * A Content-Type Fastify cannot parse is treated like none: Guzzle's stream handler (PHP without
 * the curl extension) sends `Content-Type:` with an empty value. Such a request gets
 * `application/octet-stream` through `request.headers` (Fastify's additive header setter) before
 * the body is read; `request.raw.headers`, which the journal records, keeps what was sent. A
 * parsable type, the common case, costs one regex test.
 */
export function useSealedBodyParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', (request, _reply, done) => {
    const type = request.raw.headers['content-type'];
    if (type !== undefined && !PARSABLE_MEDIA_TYPE.test(type)) {
      request.headers = { 'content-type': 'application/octet-stream' };
    }
    done();
  });
}
