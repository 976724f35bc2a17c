import type { FastifyInstance } from 'fastify';

/**
 * Makes every body in this plugin a raw string, whatever the Content-Type (spec §2): the JS widget
 * sends text/plain, one PHP SDK application/json (still base64 text), another none at all.
 */
export function useSealedBodyParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
}
