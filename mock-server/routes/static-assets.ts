import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import { loadAsset, type Asset } from '../views/assets.js';

/**
 * The handler of a `…/:name` route serving a table of static files. The table is built with the
 * first request, not at startup (finding files in node_modules costs startup time, issue 10), and
 * each file is read once per app. An unknown name is 4040119.
 *
 * @example
 * app.get('/static/:name', staticAssets(assetTable, { what: 'static file', cacheControl: 'public, max-age=300' }));
 */
export function staticAssets(
  table: () => Record<string, Asset>,
  opts: { what: string; cacheControl: string },
) {
  let assets: Record<string, Asset> | undefined;
  const cache = new Map<string, Buffer>();
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { name } = request.params as { name: string };
    assets ??= table();
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset)
      throw new KtpayError(ErrorCode.ROUTE_NOT_FOUND_4040119, { diagnostic: `no ${opts.what} ${name}` });
    return reply.type(asset.type).header('cache-control', opts.cacheControl).send(loadAsset(asset, cache));
  };
}
