/**
 * Express 5 with `express-openid-connect` (Auth0's OpenID Connect middleware) and its
 * `requiresAuth()` guard, carrying the same profile in its encrypted `appSession` cookie.
 * The issuer is never contacted: only requests of a signed-in user are measured.
 */
import express from 'express'
import openidConnect from 'express-openid-connect'
import { createServer } from 'node:http'
import { announce, cookiePair } from './ready.ts'

const { auth, requiresAuth } = openidConnect
import { answer, benchClaims } from '../profile.ts'

const app = express()
app.disable('x-powered-by')
app.use(auth({
  authRequired: false,
  auth0Logout: false,
  idpLogout: false,
  issuerBaseURL: 'http://127.0.0.1:9',
  baseURL: 'http://localhost:3000',
  clientID: 'bench',
  clientSecret: 'bench',
  authorizationParams: { response_type: 'code' },
  secret: 'a benchmark secret of at least thirty-two characters'
}))
app.get('/protected', requiresAuth(), (req, res) => { res.json(answer(req.oidc.user?.email as string)) })
app.get('/seed', (req, res) => {
  // What its callback stores after a login: the ID token, whose claims are the user. The
  // middleware verified the signature at login and trusts its own encrypted cookie afterwards.
  const now = Math.floor(Date.now() / 1000)
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const idToken = `${part({ alg: 'RS256', kid: 'bench' })}.${part({ ...benchClaims, iss: 'http://127.0.0.1:9/', aud: 'bench', iat: now, exp: now + 3600 })}.c2lnbmF0dXJl`
  Object.assign((req as unknown as { appSession: object }).appSession, { id_token: idToken })
  res.send('ok')
})

const server = createServer(app)
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as { port: number }
const seeded = await fetch(`http://127.0.0.1:${port}/seed`)
await announce(server, () => new Promise(resolve => server.close(resolve)), { cookie: cookiePair(seeded.headers.getSetCookie(), 'appSession') })
