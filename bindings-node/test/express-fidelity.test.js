'use strict'
// sessile/express where an app moving from express-session 1.19 notices: its newer options
// (cookie as a function of req, sameSite 'auto'), its option errors, the migration setting
// compat: 'express-session', Passport's login and logout reaching the engine, security
// events without wiring, options that are not dropped silently.
const test = require('node:test')
const assert = require('node:assert/strict')
const request = require('supertest')
const express = require('express4')
const passport = require('passport')
const LocalStrategy = require('passport-local').Strategy
const session = require('../express')
const { Engine } = require('..')

function setCookies(res) {
  return res.headers['set-cookie'] || []
}

function sidCookie(res, name = 'connect.sid') {
  return setCookies(res).find((c) => c.startsWith(name + '='))
}

function appWith(options, routes, setup) {
  const app = express()
  if (setup) app.use(setup)
  app.use(session(options))
  routes(app)
  app.use((err, req, res, next) => res.status(500).send('error: ' + (err.code || err.message)))
  return app
}

const touch = (app) =>
  app.get(/.*/, (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })

test("compat: 'express-session' puts back its defaults: resave, saveUninitialized, no Secure, no SameSite", async () => {
  const store = new session.MemoryStore()
  const sets = []
  const set = store.set
  store.set = function (sid, sess, cb) {
    sets.push(sid)
    return set.call(this, sid, sess, cb)
  }
  const app = appWith({ secret: 'k', compat: 'express-session', store }, (a) => a.get('/', (req, res) => res.send('untouched')))
  const agent = request.agent(app)
  const first = await agent.get('/').expect(200)
  // saveUninitialized: an untouched new session is saved and gets its cookie.
  assert.match(sidCookie(first), /^connect\.sid=s%3A[^;]+; Path=\/; HttpOnly$/)
  assert.equal(sets.length, 1)
  // resave: an unmodified session is saved again.
  await agent.get('/').expect(200)
  assert.equal(sets.length, 2)

  // sessile's defaults without it: nothing saved, no cookie.
  const plain = appWith({ secret: 'k', store: new session.MemoryStore() }, (a) => a.get('/', (req, res) => res.send('untouched')))
  assert.equal(sidCookie(await request(plain).get('/')), undefined)
})

test('compat: the secret may come from req.secret (cookie-parser), as express-session reads it', async () => {
  const app = appWith({ compat: 'express-session' }, touch, (req, res, next) => {
    req.secret = req.headers['x-secret']
    next()
  })
  const first = await request(app).get('/').set('X-Secret', 'keyboard cat').expect(200, '1')
  const cookie = sidCookie(first).split(';')[0]
  await request(app).get('/').set('X-Secret', 'keyboard cat').set('Cookie', cookie).expect(200, '2')
  // Another secret does not verify the cookie: a new session.
  await request(app).get('/').set('X-Secret', 'other').set('Cookie', cookie).expect(200, '1')
  await request(app).get('/').expect(500, /secret option required/)
  // Without compat a missing secret is a setup error.
  assert.throws(() => session({}), /secret option required/)
})

test('cookie as a function of req: its attributes per request, checked by the core', async () => {
  const seen = []
  const app = appWith(
    {
      secret: 'k',
      cookie: (req) => {
        seen.push(req.url)
        return req.url.startsWith('/strict') ? { sameSite: 'strict', maxAge: 2000 } : { path: '/' }
      },
    },
    touch,
  )
  const strict = await request(app).get('/strict').expect(200, '1')
  assert.equal(sidCookie(strict).replace(/s%3A[^;]+/, 'V'), 'connect.sid=V; Path=/; Max-Age=2; HttpOnly; SameSite=Strict')
  const lax = await request(app).get('/lax').expect(200, '1')
  // sessile's defaults under what the function gives (SameSite=Lax).
  assert.equal(sidCookie(lax).replace(/s%3A[^;]+/, 'V'), 'connect.sid=V; Path=/; HttpOnly; SameSite=Lax')
  assert.deepEqual(seen, ['/strict', '/lax'], 'called once per request')

  // A combination browsers reject is the core's SESSILE_CONFIG, at the request.
  const bad = appWith({ secret: 'k', cookie: () => ({ sameSite: 'none', secure: false }) }, touch)
  await request(bad).get('/').expect(500, 'error: SESSILE_CONFIG')
})

test("sameSite 'auto' with proxy: SameSite=None and Secure over HTTPS, Lax over HTTP", async () => {
  const app = appWith({ secret: 'k', proxy: true, cookie: { sameSite: 'auto' } }, touch)
  const https = await request(app).get('/').set('X-Forwarded-Proto', 'https').expect(200)
  assert.equal(sidCookie(https).replace(/s%3A[^;]+/, 'V'), 'connect.sid=V; Path=/; HttpOnly; Secure; SameSite=None')
  const http = await request(app).get('/').set('X-Forwarded-Proto', 'http').expect(200)
  assert.equal(sidCookie(http).replace(/s%3A[^;]+/, 'V'), 'connect.sid=V; Path=/; HttpOnly; SameSite=Lax')
  // proxy: false does not believe the header.
  const untrusted = appWith({ secret: 'k', proxy: false, cookie: { sameSite: 'auto' } }, touch)
  const spoofed = await request(untrusted).get('/').set('X-Forwarded-Proto', 'https').expect(200)
  assert.match(sidCookie(spoofed), /SameSite=Lax$/)
  // With secure: 'auto' too, the compat defaults: the same two forms.
  const compat = appWith({ secret: 'k', proxy: true, compat: 'express-session', cookie: { sameSite: 'auto', secure: 'auto' } }, touch)
  assert.match(sidCookie(await request(compat).get('/').set('X-Forwarded-Proto', 'https')), /; Secure; SameSite=None$/)
  assert.match(sidCookie(await request(compat).get('/')), /; HttpOnly; SameSite=Lax$/)
})

test("option errors come in express-session's order, then sessile's", () => {
  // express-session checks genid, then unset, then an empty secret array; sessile's own
  // checks (a missing secret) come after.
  assert.throws(() => session({ genid: 'bogus!', unset: 'bogus!' }), /^TypeError: genid option must be a function$/)
  assert.throws(() => session({ unset: 'bogus!' }), /^TypeError: unset option must be "destroy" or "keep"$/)
  assert.throws(() => session({ secret: [], unset: 'keep' }), /secret option array must contain one or more strings/)
  assert.throws(() => session({ secret: 'k', compat: 'express-sesion' }), /compat option must be 'express-session'/)
})

test('options are not dropped: engineOptions with engine, unknown engine keys, unknown middleware keys warn once', async () => {
  assert.throws(() => session({ secret: 'k', engine: new Engine(), engineOptions: { capacity: 5 } }), /engineOptions cannot be used with engine/)
  assert.throws(() => session({ secret: 'k', store: new session.MemoryStore(), engineOptions: { capacity: 5 } }), /default store/)
  assert.throws(() => session({ secret: 'k', engineOptions: { idleTimeout: 5 } }), { code: 'SESSILE_CONFIG', reason: 'unknown_key', key: 'idleTimeout' })
  assert.throws(() => new session.SessileStore({ capacty: 5 }), /unknown option 'capacty'/)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    session({ secret: 'k', resaved: true })
    session({ secret: 'k', resaved: true })
    session({ secret: 'k', cookie: { maxage: 5 } })
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', onWarning)
  }
  assert.deepEqual(
    warnings.map((w) => [w.code, w.message]),
    [
      ['SESSILE_UNKNOWN_OPTION', "sessile/express: unknown option 'resaved' is ignored (express-session ignores it too)"],
      ['SESSILE_UNKNOWN_OPTION', "sessile/express: unknown cookie option 'maxage' is ignored (express-session ignores it too)"],
    ],
  )
})

test('security events reach onEvent and the engine listeners with no emitEvents() call', async () => {
  const seen = []
  const engine = new Engine({ tombstones: 64 })
  const kinds = []
  engine.on('reuse_after_logout', (e) => kinds.push(e.kind))
  const mw = session({ secret: 'k', engine, onEvent: (e) => seen.push(e.kind) })
  assert.equal(mw.engine, engine)
  const app = express()
  app.use(mw)
  touch(app)
  app.post('/logout', (req, res) => req.session.logout(() => res.send('bye')))
  const first = await request(app).get('/').expect(200, '1')
  const cookie = sidCookie(first).split(';')[0]
  await request(app).post('/logout').set('Cookie', cookie).expect(200)
  // The logged-out cookie comes back (stolen?): a new session, and the event.
  await request(app).get('/').set('Cookie', cookie).expect(200, '1')
  assert.ok(seen.includes('created') && seen.includes('logged_out'), seen.join())
  assert.ok(seen.includes('reuse_after_logout'), seen.join())
  assert.deepEqual(kinds, ['reuse_after_logout'])
  assert.equal(engine.drainEvents().length, 0, 'delivered, not left queued')
})

function passportApp(options) {
  const users = { alice: 'wonderland', bob: 'builder' }
  const pp = new passport.Passport()
  pp.use(new LocalStrategy((username, password, done) => done(null, users[username] === password ? { id: username } : false)))
  pp.serializeUser((user, done) => done(null, user.id))
  pp.deserializeUser((id, done) => done(null, { id }))
  const app = express()
  const mw = session(Object.assign({ secret: 'k' }, options))
  app.use(mw)
  app.use(express.urlencoded({ extended: false }))
  app.use(pp.session())
  app.post('/login', pp.authenticate('local'), (req, res) => res.send('hello ' + req.user.id))
  app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.send('bye'))))
  app.get('/me', (req, res) => res.send(req.user ? req.user.id : 'anonymous'))
  app.get('/visit', (req, res) => {
    req.session.visits = (req.session.visits || 0) + 1
    res.send(String(req.session.visits))
  })
  app.use((err, req, res, next) => res.status(500).send('error: ' + (err.code || err.message)))
  return { app, engine: mw.engine }
}

async function logIn(app, user, password) {
  const agent = request.agent(app)
  await agent.post('/login').type('form').send({ username: user, password }).expect(200, 'hello ' + user)
  return agent
}

test('Passport: req.login binds the user in the engine, req.logout unbinds it', async () => {
  const { app, engine } = passportApp()
  const agent = request.agent(app)
  await agent.get('/visit').expect(200, '1')
  const before = engine.stats().live
  await agent.post('/login').type('form').send({ username: 'alice', password: 'wonderland' }).expect(200, 'hello alice')
  await agent.get('/me').expect(200, 'alice')
  const mine = engine.sessionsOf('alice')
  assert.equal(mine.length, 1, 'the engine knows alice')
  assert.equal(engine.stats().live, before, 'the anonymous session was replaced, not kept')
  await agent.post('/logout').expect(200, 'bye')
  await agent.get('/me').expect(200, 'anonymous')
  assert.deepEqual(engine.sessionsOf('alice'), [], 'no session of alice is left')
})

test('Passport: log out everywhere ends every session of the user', async () => {
  const { app, engine } = passportApp()
  const laptop = await logIn(app, 'alice', 'wonderland')
  const phone = await logIn(app, 'alice', 'wonderland')
  const other = await logIn(app, 'bob', 'builder')
  assert.equal(engine.sessionsOf('alice').length, 2)
  assert.equal(engine.revokePrincipal('alice'), 2)
  await laptop.get('/me').expect(200, 'anonymous')
  await phone.get('/me').expect(200, 'anonymous')
  await other.get('/me').expect(200, 'bob')
})

test('Passport: the per-user cap applies to logins through req.login', async () => {
  const { app, engine } = passportApp({ engineOptions: { maxSessionsPerPrincipal: 2 } })
  const first = await logIn(app, 'alice', 'wonderland')
  await logIn(app, 'alice', 'wonderland')
  await logIn(app, 'alice', 'wonderland')
  assert.equal(engine.sessionsOf('alice').length, 2)
  await first.get('/me').expect(200, 'anonymous', 'the least recently used one was evicted')
})

test('Passport: a flood of anonymous sessions does not evict a logged-in user', async () => {
  const { app } = passportApp({ engineOptions: { capacity: 16 }, saveUninitialized: true })
  const alice = await logIn(app, 'alice', 'wonderland')
  for (let i = 0; i < 40; i++) await request(app).get('/visit').expect(200, '1')
  await alice.get('/me').expect(200, 'alice')
})

test('session.login() binds a user that stays bound on later saves (no passport field needed)', async () => {
  const engine = new Engine()
  const app = appWith({ secret: 'k', engine }, (a) => {
    a.post('/login', (req, res) => {
      req.session.login('carol')
      res.send('ok')
    })
    touch(a)
  })
  const agent = request.agent(app)
  await agent.post('/login').expect(200)
  await agent.get('/').expect(200, '1')
  await agent.get('/').expect(200, '2')
  assert.equal(engine.sessionsOf('carol').length, 1)
})

test("req.session.userId = id (express-session apps' own field) is session data, kept across requests", async () => {
  const engine = new Engine()
  const app = appWith({ secret: 'k', engine }, (a) => {
    a.post('/login', (req, res) => {
      req.session.regenerate((err) => {
        if (err) return res.status(500).end()
        try {
          req.session.userId = 'u-17'
        } catch (e) {
          return res.status(500).send(e.message)
        }
        res.send('ok')
      })
    })
    a.post('/bind', (req, res) => {
      req.session.login('alice')
      res.send(String(req.session.userId))
    })
    a.get('/', (req, res) => res.send(JSON.stringify([req.session.userId ?? null, Object.keys(req.session)])))
  })
  const agent = request.agent(app)
  await agent.post('/login').expect(200, 'ok')
  await agent.get('/').expect(200, JSON.stringify(['u-17', ['cookie', 'userId']]))
  await agent.get('/').expect(200, JSON.stringify(['u-17', ['cookie', 'userId']]))
  // The app's field stays its own; the engine binding is separate.
  await agent.post('/bind').expect(200, 'u-17')
  await agent.get('/').expect(200, JSON.stringify(['u-17', ['cookie', 'userId']]))
  assert.equal(engine.sessionsOf('alice').length, 1)
  // Without a field of the app's, userId is the bound user.
  const other = request.agent(app)
  await other.post('/bind').expect(200, 'alice')
  await other.get('/').expect(200, JSON.stringify(['alice', ['cookie']]))
})

test('max age: cookie.maxAge is how long a session lives from its start (the absolute timeout, idle cut to it); the cookie ends with it', async () => {
  let now = 0
  const mw = session({ secret: 'k', rolling: true, cookie: { maxAge: 60_000 }, engineOptions: { clock: () => now } })
  assert.equal(mw.engine.config.absoluteTimeoutMs, 60_000)
  assert.equal(mw.engine.config.idleTimeoutMs, 60_000, 'the 30-minute idle default is cut to the max age')
  const app = express()
  app.use(mw)
  touch(app)
  const agent = request.agent(app)
  const first = await agent.get('/').expect(200, '1')
  assert.match(sidCookie(first), /; Max-Age=60;/)
  now = 40_000
  const rolled = await agent.get('/').expect(200, '2')
  // rolling re-sends the cookie; its Max-Age runs to the session's deadline, not 60 s more.
  assert.match(sidCookie(rolled), /; Max-Age=20;/)
  now = 59_000
  await agent.get('/').expect(200, '3')
  now = 60_000
  await agent.get('/').expect(200, '1', 'busy or not, the session ended at its max age')

  // The engine's idle timeout, when shorter, still ends an unused session first.
  const short = session({ secret: 'k', cookie: { maxAge: 3_600_000 }, engineOptions: { idleTimeoutMs: 60_000 } })
  assert.equal(short.engine.config.absoluteTimeoutMs, 3_600_000)
  assert.equal(short.engine.config.idleTimeoutMs, 60_000)
})

test('max age: what the engine cannot keep, or another setting overrides, is a warning, never silent', async () => {
  const warnings = []
  const onWarning = (w) => warnings.push(w.message)
  process.on('warning', onWarning)
  try {
    const year = session({ secret: 'k', cookie: { maxAge: 365 * 24 * 3_600_000 } })
    assert.equal(year.engine.config.absoluteTimeoutMs, 4_294_967_295)
    const given = session({ secret: 'k', cookie: { maxAge: 1000 }, engineOptions: { absoluteTimeoutMs: 5000, idleTimeoutMs: 5000 } })
    assert.equal(given.engine.config.absoluteTimeoutMs, 5000)
    session({ secret: 'k', cookie: { maxAge: 1000 }, engine: new Engine() })
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', onWarning)
  }
  assert.equal(warnings.length, 3, warnings.join('\n'))
  assert.match(warnings[0], /longer than a session may live in the engine; sessions end after 4294967295 ms/)
  assert.match(warnings[1], /engineOptions set the session lifetime, so cookie.maxAge 1000 ms does not/)
  assert.match(warnings[2], /is not the given engine's absolute timeout \(28800000 ms\)/)
})

test('Passport: logging in a new visitor issues no engine session only to end it', async () => {
  const { app, engine } = passportApp()
  await logIn(app, 'alice', 'wonderland')
  assert.deepEqual(
    engine.drainEvents().map((e) => e.kind),
    ['created', 'logged_in'],
  )
})

test('SessileStore under express-session: security events reach onEvent without emitEvents()', async () => {
  const expressSession = require('express-session')
  const seen = []
  const store = new session.SessileStore({ capacity: 100, onEvent: (e) => seen.push(e.kind) })
  const app = express()
  app.use(expressSession({ secret: 'k', store, resave: false, saveUninitialized: false }))
  app.post('/login', (req, res) => {
    req.session.passport = { user: 'alice' }
    res.send('ok')
  })
  app.post('/logout', (req, res) => req.session.destroy(() => res.send('bye')))
  const agent = request.agent(app)
  await agent.post('/login').expect(200, 'ok')
  await agent.post('/logout').expect(200, 'bye')
  assert.deepEqual(seen, ['created', 'logged_in', 'logged_out'])
  assert.throws(() => new session.SessileStore({ onEvent: 'log' }), /'onEvent' must be a function/)
})

test('Passport over a shared Redis store: a login through one worker is bound for all, log out everywhere from another ends it', async (t) => {
  const path = require('node:path')
  const { startRedis } = require(path.join(__dirname, '..', '..', 'examples', 'node', 'redis.js'))
  const redis = await startRedis()
  t.after(() => redis.close())
  // Two-second timeouts: a late reply on a busy machine is not what this tests.
  const shared = () => new Engine({ store: redis.url, storeKey: '5e'.repeat(32), storeResponseTimeoutMs: 2000 })
  const one = passportApp({ engine: shared() })
  const two = passportApp({ engine: shared() })
  const agent = request.agent(one.app)
  await agent.post('/login').type('form').send({ username: 'alice', password: 'wonderland' }).expect(200, 'hello alice')
  const cookie = agent.jar.getCookie('connect.sid', { path: '/', domain: '127.0.0.1', secure: false, script: false })
  assert.ok(cookie, 'logged in with a cookie')
  await request(two.app).get('/me').set('Cookie', `connect.sid=${cookie.value}`).expect(200, 'alice')
  assert.equal(two.engine.sessionsOf('alice').length, 1)
  assert.equal(two.engine.revokePrincipal('alice'), 1)
  await agent.get('/me').expect(200, 'anonymous')

  // Max age over the shared store (its clock is Unix time): the same cookie text.
  const timed = appWith({ secret: 'k', cookie: { maxAge: 60_000 }, engineOptions: { store: redis.url, storeKey: '5e'.repeat(32), storeResponseTimeoutMs: 2000 } }, touch)
  assert.match(sidCookie(await request(timed).get('/').expect(200, '1')), /; Max-Age=60;/)
})
