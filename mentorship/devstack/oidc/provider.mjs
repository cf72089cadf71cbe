// The development OpenID Connect provider: the npm `oidc-provider` (a certified implementation), loaded with the
// demo institution's people and the platform's clients. Development and tests only.
//
//   node provider.mjs CONFIG.json
//
// CONFIG (written by mentorship/devstack/oidc.py): issuer, port, password (every account's), admin_secret,
// accounts [{username, name, employee_id, groups}], clients [oidc-provider client metadata + groups],
// resources (the services' audiences), access_token_ttl (seconds).
//
// Besides the standard endpoints (discovery, JWKS, authorization with PKCE, token, userinfo, end_session) it
// serves the sign-in form (/interaction/<uid>) and, for tests, POST /dev/rotate-keys (bearer admin_secret): a new
// RSA and EC signing key go first in the JWKS (new tokens use them; old keys stay published so tokens already
// issued still verify).

import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(config.accounts.map((a) => [a.username, a]));
const clientGroups = new Map(config.clients.map((c) => [c.client_id, c.groups || []]));
const resources = new Set(config.resources);
const cookieKeys = [randomBytes(32).toString('hex')];

function newKeys() {
  const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${stamp}-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `ec-${stamp}-${randomUUID().slice(0, 8)}`, alg: 'ES256', use: 'sig' },
  ];
}

let keys = newKeys();

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function build() {
  const provider = new Provider(config.issuer, {
    clients: config.clients.map(({ groups, ...metadata }) => metadata),
    jwks: { keys },
    cookies: { keys: cookieKeys },
    findAccount: async (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          name: account.name,
          preferred_username: account.username,
          employee_id: account.employee_id,
          groups: account.groups,
        }),
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
      employee: ['employee_id'],
    },
    scopes: ['openid', 'profile', 'groups', 'employee', 'api'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // Development: no "do you want to sign out?" question; the form submits itself.
        logoutSource: async (ctx, form) => {
          const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing out</title></head>
<body><p>Signing out…</p>${confirmed}<script>document.forms[0].submit()</script></body></html>`;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (!resources.has(resource)) throw new errors.InvalidTarget();
          return {
            scope: 'api',
            audience: resource,
            accessTokenTTL: config.access_token_ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // People's access tokens carry their groups and employee id; a system's carry its client's groups.
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind === 'ClientCredentials') return { groups: clientGroups.get(token.clientId) || [] };
      const account = accounts.get(token.accountId);
      return account ? { groups: account.groups, employee_id: account.employee_id } : undefined;
    },
    // A client allowed the refresh grant (the portal) gets a refresh token with every code: it trades it for an
    // access token per service (resource indicators), so the browser never holds one.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // The groups and employee id travel in the ID token too: the dashboard maps them without a userinfo call.
    conformIdTokenClaims: false,
    ttl: {
      AccessToken: config.access_token_ttl,
      ClientCredentials: config.access_token_ttl,
      IdToken: config.access_token_ttl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body>
<h1>Sign-in error</h1><pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre></body></html>`;
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  return provider;
}

let provider = build();
let handle = provider.callback();

function loginPage(uid, client, message = '') {
  const people = config.accounts
    .map((a) => `<li><code>${escapeHtml(a.username)}</code>: ${escapeHtml(a.name)} (${escapeHtml(a.groups.join(', '))})</li>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · development provider</title>
<style>body{font-family:system-ui,sans-serif;margin:3rem auto;max-width:36rem}.error{color:#a11}label{display:block;margin-top:.6rem}</style>
</head><body><h1>Development sign-in</h1><p>to <strong>${escapeHtml(client)}</strong>. Development only.</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p></form>
<h2>Accounts</h2><ul>${people}</ul></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

function sameSecret(given, expected) {
  const a = Buffer.from(given || '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (action === 'login' && req.method === 'POST') {
      const form = await readForm(req);
      const account = accounts.get((form.get('username') || '').trim());
      if (!account || !sameSecret(form.get('password'), config.password)) {
        return send(res, 401, 'text/html', loginPage(uid, params.client_id, 'Unknown username or wrong password.'));
      }
      return provider.interactionFinished(req, res, { login: { accountId: account.username } }, { mergeWithLastSubmission: false });
    }
    return send(res, 200, 'text/html', loginPage(uid, params.client_id));
  }
  if (prompt.name === 'consent') {
    // First-party clients only: consent is granted without asking.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(res, 400, 'text/plain', `unexpected prompt ${prompt.name}`);
}

async function rotateKeys(req, res) {
  const header = req.headers.authorization || '';
  if (!sameSecret(header.replace(/^Bearer /, ''), config.admin_secret)) {
    return send(res, 401, 'application/json', JSON.stringify({ error: 'admin secret required' }));
  }
  keys = [...newKeys(), ...keys]; // the first key of an algorithm signs; the older ones stay published
  provider = build(); // sessions, grants and codes live in the shared in-memory adapter, so they carry over
  handle = provider.callback();
  return send(res, 200, 'application/json', JSON.stringify({ kids: keys.map((k) => k.kid) }));
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, config.issuer);
    const match = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    if (url.pathname === '/dev/rotate-keys' && req.method === 'POST') return await rotateKeys(req, res);
    if (url.pathname === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}');
    return handle(req, res);
  } catch (err) {
    console.error(err);
    return send(res, err.statusCode || 500, 'text/plain', `${err.name}: ${err.message}`);
  }
});

server.listen(config.port, '127.0.0.1', () => {
  console.log(`development OpenID Connect provider at ${config.issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
