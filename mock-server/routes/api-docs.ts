import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildOpenApi } from '../openapi/build-openapi.js';
import type { SandboxContext } from '../sandbox-context.js';
import type { Asset } from '../views/assets.js';
import { staticAssets } from './static-assets.js';
import { dashboardAssetTable } from '../views/dashboard/dashboard-assets.js';
import { html } from '../views/html.js';
import { originOf } from '../views/links.js';

export const DOCS_PATH = '/docs';
export const OPENAPI_PATH = '/openapi.json';

/** Swagger UI's files from the installed swagger-ui-dist package: served locally, never from a CDN. */
function swaggerAssets(): Record<string, Asset> {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return {
    'swagger-ui.css': { path: join(dir, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
    'swagger-ui-bundle.js': {
      path: join(dir, 'swagger-ui-bundle.js'),
      type: 'text/javascript; charset=utf-8',
    },
    'favicon-32x32.png': { path: join(dir, 'favicon-32x32.png'), type: 'image/png' },
    'docs.js': dashboardAssetTable()['docs.js']!,
  };
}

function docsPage(): string {
  const a = `${DOCS_PATH}/assets`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ktpay API docs · ktpay-mock</title>
<link rel="icon" type="image/png" href="${a}/favicon-32x32.png">
<link rel="stylesheet" href="${a}/swagger-ui.css">
</head>
<body>
<noscript><p>The interactive docs need JavaScript; the document itself is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="${a}/swagger-ui-bundle.js"></script>
<script src="${a}/docs.js"></script>
</body>
</html>
`.value;
}

/**
 * The API docs (issue 8): `GET /openapi.json`, the OpenAPI 3.1 document generated from the
 * contracts with this sandbox listed first among the servers, and `GET /docs`, Swagger UI over it,
 * all served offline. Open even with ADMIN_TOKEN: the document holds no data and no secret.
 *
 * @example
 * await app.register(apiDocs, { ctx });
 */
export async function apiDocs(app: FastifyInstance, opts: { ctx: SandboxContext }) {
  const { ctx } = opts;
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'page' };
  });
  // Built with the first request for it, not at startup (~20 ms of it, issue 10), then kept.
  let document: ReturnType<typeof buildOpenApi> | undefined;

  app.get(OPENAPI_PATH, async (request, reply) => {
    const base = (document ??= buildOpenApi());
    const servers = [
      { url: originOf(request, ctx.config), description: 'this sandbox' },
      ...(base.servers as object[]),
    ];
    return reply.header('cache-control', 'no-cache').send({ ...base, servers });
  });

  app.get(DOCS_PATH, async (_request, reply) => reply.type('text/html; charset=utf-8').send(docsPage()));

  app.get(
    `${DOCS_PATH}/assets/:name`,
    staticAssets(swaggerAssets, { what: 'docs file', cacheControl: 'public, max-age=300' }),
  );
}
