// An oidc-provider authorization server and a protected API, on 127.0.0.1, for the tests.
//
// node server.js prints "ready PORT" once it listens on a free port of 127.0.0.1, then serves:
// - the provider itself: POST /token answers the client-credentials grant. With
//   resource=http://127.0.0.1:PORT/api (RFC 8707) the access token is a signed JWT for that API;
//   without a resource it is opaque, and the API refuses it.
// - /api/...: the protected API. It checks the JWT's signature, issuer, audience, type and expiry
//   against the provider's key, and answers 401 with a Bearer challenge to anything else.
// - POST /_revoke: the API refuses every token it has accepted so far (a JWT cannot be revoked
//   at the provider; this plays a revocation). GET /_stats: how many token requests came in.
//
// The clients, their secrets and the scope are in CLIENTS below; the tests use the same values.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import { createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import Provider, { errors } from 'oidc-provider';

const SCOPE = 'api:read';
const TOKEN_LIFETIME = 600; // seconds; long enough that no test sees a token expire
const CLIENTS = [
  // The RFC 6749 default: the id and secret in an HTTP Basic header, and only there.
  { client_id: 'oidc-basic', client_secret: 'oidc-basic-secret:with colon', token_endpoint_auth_method: 'client_secret_basic' },
  // The form Trulioo documents: the id and secret in the body, and only there.
  { client_id: 'oidc-post', client_secret: 'oidc-post-secret', token_endpoint_auth_method: 'client_secret_post' },
].map((client) => ({
  ...client,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: SCOPE,
}));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test', alg: 'RS256', use: 'sig' };
const { d, p, q, dp, dq, qi, ...publicKey } = signingKey;
const apiKeys = createLocalJWKSet({ keys: [publicKey] });

let provider;
let tokenRequests = 0;
const accepted = new Set(); // the jti of every token the API accepted
const revoked = new Set();

function send(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

async function api(req, res, audience) {
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  try {
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new Error('no bearer token');
    const { payload } = await jwtVerify(token, apiKeys, {
      issuer: provider.issuer,
      audience,
      typ: 'at+jwt',
    });
    if (revoked.has(payload.jti)) throw new Error('revoked');
    accepted.add(payload.jti);
    send(res, 200, { path: req.url, client_id: payload.client_id, scope: payload.scope ?? null });
  } catch {
    send(res, 401, { message: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  if (pathname === '/api' || pathname.startsWith('/api/')) {
    api(req, res, `${provider.issuer}/api`);
  } else if (pathname === '/_revoke' && req.method === 'POST') {
    for (const jti of accepted) revoked.add(jti);
    send(res, 200, { revoked: revoked.size });
  } else if (pathname === '/_stats') {
    send(res, 200, { token_requests: tokenRequests });
  } else {
    if (pathname === '/token' && req.method === 'POST') tokenRequests += 1;
    provider.callback()(req, res);
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients: CLIENTS,
    jwks: { keys: [signingKey] },
    scopes: [SCOPE],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Only the API below is a resource; anything else is refused with invalid_target.
        getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator !== `${issuer}/api`) {
            throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          }
          return {
            scope: SCOPE,
            audience: resourceIndicator,
            accessTokenTTL: TOKEN_LIFETIME,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: { ClientCredentials: TOKEN_LIFETIME },
  });
  process.stdout.write(`ready ${port}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
