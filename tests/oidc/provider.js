// A certified OpenID provider (oidc-provider, with its development sign-in pages) on a loopback
// port, for wopid's single sign-on tests. It listens on 127.0.0.1:0 and prints
// "ISSUER http://127.0.0.1:PORT"; it then reads one line of JSON from standard input, the client
// to register ({"client_id", "client_secret", "redirect_uris"}), and prints "READY".
//
// Anyone may sign in with any password (the development pages); the account's claims follow
// from the login typed, "id-NAME": sub "id-NAME", preferred_username NAME, name "NAME Example",
// groups ["office"], or ["guests"] for a NAME starting with "outsider".
import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';

let handler = null;
const server = http.createServer((req, res) => {
  if (handler) {
    handler(req, res);
  } else {
    res.statusCode = 503;
    res.end('not ready\n');
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  console.log(`ISSUER ${issuer}`);
  const lines = readline.createInterface({ input: process.stdin });
  lines.once('line', (line) => {
    const client = JSON.parse(line);
    const provider = new Provider(issuer, {
      clients: [{
        client_id: client.client_id,
        client_secret: client.client_secret,
        redirect_uris: client.redirect_uris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      }],
      claims: {
        openid: ['sub'],
        profile: ['name', 'preferred_username'],
        email: ['email', 'email_verified'],
        groups: ['groups'],
      },
      scopes: ['openid', 'profile', 'email', 'groups'],
      // The claims of the granted scopes go into the ID token too (as Keycloak, Entra ID and
      // others do), not only to the userinfo endpoint.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      cookies: { keys: ['wopid-test-only-cookie-key'] },
      features: { devInteractions: { enabled: true } },
      async findAccount(ctx, id) {
        const sub = String(id);
        const name = sub.replace(/^id-/, '');
        return {
          accountId: sub,
          async claims() {
            return {
              sub,
              preferred_username: name,
              name: `${name} Example`,
              email: `${name}@example.org`,
              email_verified: true,
              groups: name.startsWith('outsider') ? ['guests'] : ['office'],
            };
          },
        };
      },
    });
    provider.on('server_error', (ctx, err) => console.error('server_error', err));
    handler = provider.callback();
    console.log('READY');
  });
  lines.on('close', () => process.exit(0));
});
