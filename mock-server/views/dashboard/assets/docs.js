/* global window */
// Starts Swagger UI on /docs from the locally served swagger-ui-dist bundle (no CDN) and points it
// at this sandbox's own /openapi.json. validatorUrl: null keeps it from calling an online validator.
window.ui = window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
