// panva's oidc-provider (OpenID-certified) with DPoP on and nonces required, for
// tests/all/oidc_provider.rs. Listens on 127.0.0.1 on a free port, prints
// `listening on 127.0.0.1:<port>` as its first line and exits when its stdin closes.
//
// One public client, `refreshkit`: no secret, PKCE, DPoP-bound tokens, the
// authorization-code and refresh-token grants, a new refresh token on every refresh.
// The front channel is a custom interaction that logs `alice` in and grants the
// requested scopes without a form (what a user's clicks would do); everything else is
// oidc-provider's own: /auth, /token, /token/revocation and /me (userinfo, which checks
// DPoP-bound tokens: key binding, `ath`, nonce, replay).
//
// GET /control/stats counts the answers of /token (by grant type), /token/revocation and
// /me, by status and error code, so a test can tell how many refreshes the provider
// really served;
// POST /control/expire ends the access token in its body before its time, and
// POST /control/access-ttl sets the lifetime in seconds of the access tokens issued next
// (300 at first).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'test' };

// Seconds; POST /control/access-ttl changes it.
let accessTtl = 300;

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'refreshkit',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    dpop_bound_access_tokens: true,
    id_token_signed_response_alg: 'ES256',
  }],
  features: {
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    revocation: { enabled: true },
    devInteractions: { enabled: false },
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  scopes: ['openid', 'offline_access'],
  ttl: {
    AccessToken: () => accessTtl,
    AuthorizationCode: 60,
    IdToken: 300,
    RefreshToken: 3600,
    Grant: 3600,
    Session: 3600,
    Interaction: 600,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  jwks: { keys: [signingKey] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});

const stats = {};
const count = (name) => { stats[name] = (stats[name] ?? 0) + 1; };

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/control/stats') {
    ctx.body = stats;
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/control/expire') {
    await expire(ctx);
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/control/access-ttl') {
    accessTtl = Number(await text(ctx.req));
    ctx.status = 204;
    return;
  }
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (ctx.method === 'GET' && interaction) {
    await finishInteraction(ctx);
    return;
  }
  await next();
  // After oidc-provider's own error handling: the status and error code it answered.
  const route = ctx.oidc?.route;
  if (route === 'token' || route === 'userinfo' || route === 'revocation') {
    const error = typeof ctx.body === 'object' && ctx.body?.error;
    const grant = route === 'token' ? ` ${ctx.oidc.params?.grant_type ?? '?'}` : '';
    count(`${route}${grant} ${ctx.status}${error ? ` ${error}` : ''}`);
  }
});

// The access token in the body ends now, as at the end of its lifetime: oidc-provider
// answers "invalid_token" for it, the grant and its refresh token stay. (Revocation
// would not do: oidc-provider revokes every token of the grant with it.)
async function expire(ctx) {
  const token = await provider.AccessToken.find(await text(ctx.req));
  ctx.assert(token, 404, 'no such access token');
  await token.destroy();
  ctx.status = 204;
}

async function text(request) {
  let value = '';
  for await (const chunk of request) value += chunk;
  return value;
}

// What the login page and the consent screen would do when the user accepts.
async function finishInteraction(ctx) {
  const { prompt, params, session, grantId } = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: 'alice' } };
  } else if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    result = { consent: { grantId: await grant.save() } };
  } else {
    ctx.throw(500, `unexpected prompt ${prompt.name}`);
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

server.on('request', provider.callback());
console.log(`listening on 127.0.0.1:${port}`);
