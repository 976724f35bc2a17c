import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import { jsonTextDepth, jsonTextExceeds, MAX_JSON_DEPTH } from '../shared/json-depth.js';

/** Why Fastify's JSON parser refused a body, in words a developer can act on. */
function explainRefusal(body: string): string {
  if (body.length === 0) return 'the body is empty but Content-Type is application/json';
  try {
    JSON.parse(body);
  } catch (err) {
    return `the body is not valid JSON: ${(err as Error).message}`;
  }
  // It parses: secure-json-parse refused a key that could replace an object's prototype.
  return 'the body holds a "__proto__" key or a "constructor" object with a "prototype" key; such keys are refused so that no body can change an object\'s prototype';
}

/**
 * The `application/json` parser of every JSON route outside the merchant API (which takes sealed
 * text): Fastify's own (secure-json-parse, refusing `__proto__` and `constructor.prototype`), plus
 * the nesting-depth limit of issue 22. A refused body is 4220101 with the reason in the hint.
 *
 * @example
 * useJsonBodyParser(app); // at the root, before the route plugins
 */
export function useJsonBodyParser(app: FastifyInstance): void {
  const fastifyParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    fastifyParser(request, text, (err, value) => {
      if (err) {
        done(new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: explainRefusal(text) }), undefined);
        return;
      }
      if (jsonTextExceeds(text)) {
        done(
          new KtpayError(ErrorCode.BAD_DATA_4220101, {
            diagnostic: `the JSON body is nested ${jsonTextDepth(text)} levels deep; the sandbox accepts at most ${MAX_JSON_DEPTH} levels of objects and arrays`,
          }),
          undefined,
        );
        return;
      }
      done(null, value);
    });
  });
}
