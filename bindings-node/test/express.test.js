'use strict'
// sessile/express as a drop-in for express-session, on Express 4 and Express 5.
const test = require('node:test')
const assert = require('node:assert/strict')
const request = require('supertest')
const signature = require('cookie-signature')
const expressSession = require('express-session')
const session = require('../express')
const { Engine } = require('..')

const versions = { express4: require('express4'), express5: require('express5') }

function cookieOf(res, name = 'connect.sid') {
  const all = res.headers['set-cookie'] || []
  return all.find((c) => c.startsWith(name + '='))
}

function valueOf(setCookie) {
  return decodeURIComponent(setCookie.split(';')[0].split('=').slice(1).join('='))
}

function appWith(express, options, routes) {
  const app = express()
  if (options.trustProxy) app.set('trust proxy', true)
  app.use(session(options.session))
  routes(app)
  app.use((err, req, res, next) => res.status(500).send('error: ' + (err.code || err.message)))
  return app
}

function counter(app) {
  app.get('/', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })
  app.get('/read', (req, res) => res.send(String(req.session.n ?? 'none')))
  app.get('/id', (req, res) => res.send(req.sessionID))
}

for (const [label, express] of Object.entries(versions)) {
  test(`${label}: counter persists; cookie is s:<id>.<HMAC> as express-session signs it`, async () => {
    const app = appWith(express, { session: { secret: 'keyboard cat' } }, counter)
    const agent = request.agent(app)
    const first = await agent.get('/').expect(200, '1')
    const set = cookieOf(first)
    assert.ok(set, 'a cookie is set')
    const raw = valueOf(set)
    const id = raw.slice(2, raw.lastIndexOf('.'))
    assert.equal(raw, 's:' + signature.sign(id, 'keyboard cat'))
    assert.equal(set, `connect.sid=${encodeURIComponent(raw)}; Path=/; HttpOnly; SameSite=Lax`)
    await agent.get('/').expect(200, '2')
    const second = await agent.get('/id')
    assert.equal(second.text, id)
    assert.equal(cookieOf(second), undefined, 'no cookie re-sent when nothing changed and not rolling')
  })

  test(`${label}: an unknown or forged session ID is never adopted (fixation)`, async () => {
    const app = appWith(express, { session: { secret: 's3' } }, counter)
    const forgedId = 'A'.repeat(43)
    const forged = 's:' + signature.sign(forgedId, 's3')
    const res = await request(app).get('/').set('Cookie', 'connect.sid=' + encodeURIComponent(forged)).expect(200, '1')
    const issued = valueOf(cookieOf(res))
    assert.notEqual(issued.slice(2, issued.lastIndexOf('.')), forgedId)
    const badSig = await request(app).get('/read').set('Cookie', 'connect.sid=s%3Aabc.def').expect(200)
    assert.equal(badSig.text, 'none')
  })

  test(`${label}: secret rotation (array): old signatures accepted, new cookies signed with the first`, async () => {
    const engine = new Engine()
    const oldApp = appWith(express, { session: { secret: 'old', engine } }, counter)
    const res = await request(oldApp).get('/').expect('1')
    const cookie = cookieOf(res).split(';')[0]
    const newApp = appWith(express, { session: { secret: ['new', Buffer.from('older'), 'old'], engine, rolling: true } }, counter)
    const again = await request(newApp).get('/').set('Cookie', cookie).expect('2')
    const raw = valueOf(cookieOf(again))
    const id = raw.slice(2, raw.lastIndexOf('.'))
    assert.equal(raw, 's:' + signature.sign(id, 'new'))
    const dropped = appWith(express, { session: { secret: 'new', engine } }, counter)
    await request(dropped).get('/').set('Cookie', cookie).expect('1')
  })

  test(`${label}: cookie options (name, path, domain, httpOnly, secure, sameSite, partitioned, priority, maxAge in ms, expires)`, async () => {
    const expires = new Date(Date.now() + 3_600_000)
    const app = appWith(express, {
      session: {
        secret: 'x',
        name: 'app.sid',
        cookie: { path: '/app', domain: 'example.com', httpOnly: false, secure: true, sameSite: 'strict', partitioned: true, priority: 'high', expires },
        proxy: true,
      },
    }, (app) => app.get('/app/x', (req, res) => { req.session.a = 1; res.send('ok') }))
    const res = await request(app).get('/app/x').set('X-Forwarded-Proto', 'https').expect(200)
    const set = cookieOf(res, 'app.sid')
    // Written by the core: its attribute order, and Max-Age (whole seconds, rounded up) for
    // express-session's Expires.
    assert.match(set, /^app\.sid=s%3A[^;]+; Domain=example\.com; Path=\/app; Max-Age=3600; Secure; SameSite=Strict; Partitioned; Priority=High$/)
    // Outside the cookie path the middleware does nothing.
    const outside = appWith(express, { session: { secret: 'x', cookie: { path: '/app' } } }, (app) => app.get('/other', (req, res) => res.send(String(req.session === undefined))))
    await request(outside).get('/other').expect('true')
    // secure: true over plain HTTP without a trusted proxy: no cookie, as in express-session.
    const plain = await request(app).get('/app/x').set('X-Forwarded-Proto', 'http').expect(200)
    assert.equal(cookieOf(plain, 'app.sid'), undefined)

    const ms = appWith(express, { session: { secret: 'x', cookie: { maxAge: 1500 } } }, counter)
    const c = cookieOf(await request(ms).get('/').expect('1'))
    assert.match(c, /; Path=\/; Max-Age=2; HttpOnly; SameSite=Lax$/, 'maxAge is in milliseconds')
    assert.doesNotMatch(c, /Expires/)
  })

  // When a session ends is the core's rule, on the engine's clock. A cookie's `expires` is
  // how long the browser keeps the cookie, not a second timeout read off the wall clock: a
  // wall clock that steps forward past it (an NTP correction, a resumed VM) ends no
  // session, and a session that times out is reported as expired, never as a logout
  // (whose later reuse would raise a false reuse_after_logout alarm).
  test(`${label}: the core's deadlines end a session, on the engine's clock; a cookie's expires passing does not`, async () => {
    let now = 0
    const engine = new Engine({ idleTimeoutMs: 60_000, tombstones: 16, clock: () => now })
    const app = appWith(express, { session: { secret: 'x', engine, cookie: { maxAge: 1000 } } }, counter)
    const cookie = cookieOf(await request(app).get('/').expect('1')).split(';')[0]
    const wall = Date.now
    try {
      Date.now = () => wall() + 3_600_000 // an hour ahead: the cookie's expires has passed
      await request(app).get('/').set('Cookie', cookie).expect('2')
    } finally {
      Date.now = wall
    }
    now += 59_999
    await request(app).get('/').set('Cookie', cookie).expect('3')
    now += 60_001
    await request(app).get('/').set('Cookie', cookie).expect('1')
    const kinds = engine.drainEvents().map((e) => e.kind)
    assert.ok(kinds.includes('expired_idle'), kinds.join())
    assert.ok(!kinds.includes('logged_out') && !kinds.includes('reuse_after_logout'), kinds.join())
  })

  test(`${label}: secure 'auto' follows the connection; trust proxy is honoured`, async () => {
    const app = appWith(express, { trustProxy: true, session: { secret: 'x', cookie: { secure: 'auto' } } }, counter)
    const https = await request(app).get('/').set('X-Forwarded-Proto', 'https')
    assert.match(cookieOf(https), /; Secure; SameSite=Lax$/)
    const http = await request(app).get('/')
    assert.doesNotMatch(cookieOf(http), /Secure/)
    const distrust = appWith(express, { trustProxy: true, session: { secret: 'x', proxy: false, cookie: { secure: true } } }, counter)
    const none = await request(distrust).get('/').set('X-Forwarded-Proto', 'https')
    assert.equal(cookieOf(none), undefined)
  })

  test(`${label}: saveUninitialized, resave, rolling`, async () => {
    const touchOnly = (app) => app.get('/', (req, res) => res.send('hi'))
    const lazy = appWith(express, { session: { secret: 'x' } }, touchOnly)
    assert.equal(cookieOf(await request(lazy).get('/')), undefined, 'default: uninitialized sessions are not saved')
    const eager = appWith(express, { session: { secret: 'x', saveUninitialized: true } }, touchOnly)
    assert.ok(cookieOf(await request(eager).get('/')), 'saveUninitialized: true sets a cookie')

    const saves = []
    const store = new session.MemoryStore()
    const set = store.set.bind(store)
    store.set = (sid, sess, cb) => { saves.push(sid); set(sid, sess, cb) }
    const resave = appWith(express, { session: { secret: 'x', store, resave: true, saveUninitialized: false } }, counter)
    const first = await request(resave).get('/')
    const cookie = cookieOf(first).split(';')[0]
    await request(resave).get('/read').set('Cookie', cookie)
    assert.equal(saves.length, 2, 'resave: true saves an unmodified session')
    const noResave = appWith(express, { session: { secret: 'x', store, resave: false } }, counter)
    await request(noResave).get('/read').set('Cookie', cookie)
    assert.equal(saves.length, 2, 'resave: false does not')

    const rolling = appWith(express, { session: { secret: 'x', rolling: true, cookie: { maxAge: 60000 } } }, counter)
    const r1 = await request(rolling).get('/')
    const r2 = await request(rolling).get('/read').set('Cookie', cookieOf(r1).split(';')[0])
    assert.ok(cookieOf(r2), 'rolling: the cookie is re-sent on every response')
    const still = appWith(express, { session: { secret: 'x', cookie: { maxAge: 60000 } } }, counter)
    const s1 = await request(still).get('/')
    const s2 = await request(still).get('/read').set('Cookie', cookieOf(s1).split(';')[0])
    assert.equal(cookieOf(s2), undefined)
  })

  test(`${label}: req.session API: regenerate, destroy, reload, save, touch, cookie fields, unset`, async () => {
    const engine = new Engine()
    const app = appWith(express, { session: { secret: 'x', engine, cookie: { maxAge: 10_000 } } }, (app) => {
      counter(app)
      app.get('/regenerate', (req, res, next) => {
        const old = req.sessionID
        req.session.regenerate((err) => {
          if (err) return next(err)
          res.json({ changed: req.sessionID !== old, n: req.session.n ?? null })
        })
      })
      app.get('/destroy', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send(String(req.session)))))
      app.get('/reload', (req, res, next) => {
        req.session.n = 999
        req.session.reload((err) => (err ? next(err) : res.send(String(req.session.n))))
      })
      app.get('/save', (req, res, next) => {
        req.session.saved = true
        req.session.save((err) => (err ? next(err) : res.send('saved')))
      })
      app.get('/cookie', (req, res) => {
        const c = req.session.cookie
        req.session.touch()
        res.json({ maxAge: c.maxAge, originalMaxAge: c.originalMaxAge, expires: c.expires instanceof Date, id: req.session.id === req.sessionID })
      })
    })
    const agent = request.agent(app)
    await agent.get('/').expect('1')
    const regen = await agent.get('/regenerate').expect(200)
    assert.deepEqual(regen.body, { changed: true, n: null })
    await agent.get('/').expect('1')
    await agent.get('/reload').expect('1')
    await agent.get('/save').expect('saved')
    const c = (await agent.get('/cookie')).body
    assert.ok(c.originalMaxAge > 9_900 && c.originalMaxAge <= 10_000)
    assert.ok(c.maxAge > 9_000 && c.maxAge <= 10_000)
    assert.equal(c.expires, true)
    assert.equal(c.id, true)
    await agent.get('/destroy').expect('undefined')
    await agent.get('/read').expect('none')

    const unset = (mode) => appWith(express, { session: { secret: 'x', engine, unset: mode } }, (app) => {
      counter(app)
      app.get('/null', (req, res) => { req.session = null; res.send('ok') })
    })
    const destroyApp = unset('destroy')
    const d = await request(destroyApp).get('/')
    const dc = cookieOf(d).split(';')[0]
    await request(destroyApp).get('/null').set('Cookie', dc)
    await request(destroyApp).get('/read').set('Cookie', dc).expect('none')
    const keepApp = unset('keep')
    const k = await request(keepApp).get('/')
    const kc = cookieOf(k).split(';')[0]
    await request(keepApp).get('/null').set('Cookie', kc)
    await request(keepApp).get('/read').set('Cookie', kc).expect('1')
    assert.throws(() => session({ secret: 'x', unset: 'maybe' }), TypeError)
  })

  test(`${label}: login keeps data and rotates the ID; logout; log out everywhere`, async () => {
    const engine = new Engine({ tombstones: 64 })
    const app = appWith(express, { session: { secret: 'x', engine } }, (app) => {
      counter(app)
      app.post('/login', (req, res) => { req.session.login('alice'); res.send(req.sessionID) })
      app.get('/me', (req, res) => res.send(String(req.session.userId)))
      app.post('/logout', (req, res, next) => req.session.logout((err) => (err ? next(err) : res.send('bye'))))
      app.post('/everywhere', (req, res, next) => req.session.logoutEverywhere((err, n) => (err ? next(err) : res.send(String(n)))))
    })
    const a = request.agent(app)
    const first = await a.get('/').expect('1')
    const before = cookieOf(first).split(';')[0]
    const login = await a.post('/login').expect(200)
    assert.notEqual(login.text, before)
    assert.ok(cookieOf(login), 'login sends the new cookie')
    await a.get('/').expect('2')
    await a.get('/me').expect('alice')
    await request(app).get('/read').set('Cookie', before).expect(200, 'none') // the pre-login cookie is dead
    const b = request.agent(app)
    await b.post('/login')
    await b.get('/me').expect('alice')
    await a.post('/everywhere').expect('2')
    await b.get('/me').expect('null')
    await b.post('/login')
    const out = await b.post('/logout').expect('bye')
    assert.equal(cookieOf(out), 'connect.sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax')
    await b.get('/me').expect('null')
  })

  test(`${label}: genid and a custom store behave as in express-session: the same cookie`, async () => {
    let n = 0
    const opts = () => ({ secret: ['one', 'two'], genid: () => 'fixed-id-' + n++, resave: false, saveUninitialized: true, cookie: { maxAge: 5000, sameSite: 'lax', secure: false } })
    const mk = (mw) => { const app = express(); app.use(mw); counter(app); return app }
    const ours = mk(session({ ...opts(), store: new session.MemoryStore() }))
    const sec = ((n = 0), await request(ours).get('/'))
    const theirs = mk(expressSession({ ...opts(), store: new expressSession.MemoryStore() }))
    const ref = ((n = 0), await request(theirs).get('/'))
    // The same cookie but for its lifetime's spelling: the core writes Max-Age where
    // express-session writes Expires.
    assert.match(cookieOf(sec), /; Max-Age=5;/)
    const strip = (c) => c.replace(/; (Expires|Max-Age)=[^;]+/, '')
    assert.equal(strip(cookieOf(sec)), strip(cookieOf(ref)))
    assert.equal(valueOf(cookieOf(sec)), 's:' + signature.sign('fixed-id-0', 'one'))
    assert.throws(() => session({ secret: 'x', genid: () => 'a' }), /genid/)
    assert.throws(() => session({ secret: 'x', genid: 5, store: new session.MemoryStore() }), TypeError)
  })
}

test('exports match express-session: Store (old-style subclassable EventEmitter), Session, Cookie, MemoryStore', () => {
  for (const k of ['Store', 'Session', 'Cookie', 'MemoryStore']) assert.equal(typeof session[k], 'function', k)
  const { EventEmitter } = require('node:events')
  function Legacy() { session.Store.call(this) }
  require('node:util').inherits(Legacy, session.Store)
  const s = new Legacy()
  assert.ok(s instanceof EventEmitter)
  assert.equal(typeof s.regenerate, 'function')
  assert.equal(typeof s.createSession, 'function')
  const c = new session.Cookie({ maxAge: 1000 })
  assert.ok(c.originalMaxAge > 990 && c.originalMaxAge <= 1000)
  assert.deepEqual(Object.keys(c.toJSON()).sort(), Object.keys(new expressSession.Cookie({ maxAge: 1000 }).toJSON()).sort())
  // Cookie#serialize: the text is the core's, and so are the rules.
  assert.equal(c.serialize('a', 's:b'), 'a=s%3Ab; Path=/; Max-Age=1; HttpOnly')
  assert.throws(() => new session.Cookie({ sameSite: 'none' }).serialize('a', 'b'), (e) => e.code === 'SESSILE_CONFIG')
})

test('bad options are refused when the middleware is built', () => {
  assert.throws(() => session(), /secret/)
  assert.throws(() => session({ secret: '' }), /secret/)
  assert.throws(() => session({ secret: [] }), /secret/)
  assert.throws(() => session({ secret: [42] }), /secret/)
})

// The cookie options become a core CookieConfig when the middleware is built: a
// combination browsers reject is the core's typed error then, not a cookie they drop later.
test('cookie options browsers reject are the core\'s SESSILE_CONFIG error when the middleware is built', () => {
  const refused = (options, reason) =>
    assert.throws(() => session(Object.assign({ secret: 'x' }, options)), (e) => e.code === 'SESSILE_CONFIG' && e.reason === reason)
  refused({ cookie: { sameSite: 'none', secure: false } }, 'cookie_same_site_none_needs_secure')
  refused({ cookie: { partitioned: true, secure: false } }, 'cookie_partitioned_needs_secure')
  refused({ name: '__Host-sid', cookie: { secure: true, domain: 'example.com' } }, 'cookie_host_prefix_forbids_domain')
  refused({ name: '__Host-sid', cookie: { secure: true, path: '/app' } }, 'cookie_host_prefix_needs_root_path')
  refused({ name: '__Secure-sid', cookie: { secure: false } }, 'cookie_secure_prefix_needs_secure')
  refused({ name: 'bad name' }, 'cookie_invalid_name')
  refused({ cookie: { path: 'app' } }, 'cookie_invalid_path')
  assert.throws(() => session({ secret: 'x', cookie: { sameSite: 'sideways' } }), (e) => e.code === 'SESSILE_CONFIG' && e.reason === 'bad_value' && e.key === 'cookieSameSite')
  assert.throws(() => session({ secret: 'x', cookie: { priority: 'urgent' } }), (e) => e.code === 'SESSILE_CONFIG' && e.reason === 'bad_value' && e.key === 'cookiePriority')
})

// secure 'auto' (the default) is Secure over HTTPS; a cookie the core allows only with
// Secure (SameSite=None, Partitioned, a __Host- or __Secure- name) is then Secure always,
// so over plain HTTP it is not set, as express-session does with a Secure cookie there.
test('secure \'auto\' never writes a cookie the core allows only with Secure without it', async () => {
  const express = versions.express5
  for (const [options, name] of [
    [{ cookie: { sameSite: 'none' } }, 'connect.sid'],
    [{ cookie: { partitioned: true } }, 'connect.sid'],
    [{ name: '__Host-sid' }, '__Host-sid'],
  ]) {
    const app = appWith(express, { trustProxy: true, session: Object.assign({ secret: 'x' }, options) }, counter)
    assert.equal(cookieOf(await request(app).get('/').expect('1'), name), undefined, JSON.stringify(options))
    const https = cookieOf(await request(app).get('/').set('X-Forwarded-Proto', 'https').expect('1'), name)
    assert.match(https, /; Secure(;|$)/, JSON.stringify(options))
  }
})

test('req and res keep every property Express gave them (the middleware turns them into dictionaries)', async () => {
  for (const express of Object.values(versions)) {
    const plain = {}
    const seen = {}
    const snapshot = (req, res) => ({
      reqKeys: Object.keys(req).filter((k) => !k.startsWith('session')).sort(),
      resKeys: Object.keys(res).filter((k) => k !== 'writeHead' && k !== 'end').sort(),
      links: req.res === res && res.req === req,
      app: req.app === res.app && typeof req.next === 'function',
    })
    const a = express()
    a.get('/', (req, res) => res.status(201).json(Object.assign(plain, snapshot(req, res))))
    await request(a).get('/').expect(201)
    const b = appWith(express, { session: { secret: 'x' } }, (app) =>
      app.get('/', (req, res) => {
        req.session.n = 1
        res.status(201).json(Object.assign(seen, snapshot(req, res)))
      }),
    )
    const got = await request(b).get('/').expect(201)
    assert.ok(cookieOf(got))
    assert.deepEqual(seen, plain)
    assert.equal(seen.links, true)
  }
})

test('a session cookie sent twice: the copy naming a live session is used (cookie tossing: test/cookie-tossing.test.js)', async () => {
  const app = appWith(versions.express5, { session: { secret: 'x' } }, counter)
  const first = await request(app).get('/').expect('1')
  const good = cookieOf(first).split(';')[0]
  await request(app).get('/').set('Cookie', good).expect('2')
  await request(app).get('/').set('Cookie', `${good}; ${good}`).expect('3')
  const tossed = 'connect.sid=' + encodeURIComponent('s:' + require('cookie-signature').sign('B'.repeat(43), 'x'))
  await request(app).get('/').set('Cookie', `${tossed}; ${good}`).expect('4')
})

test('malformed, oversized and duplicate cookies are treated as no session, never a 5xx', async () => {
  const express = versions.express5
  const app = appWith(express, { session: { secret: 'x' } }, counter)
  const headers = [
    'connect.sid=%E0%A4%A',
    'connect.sid=s%3A',
    'connect.sid=s%3A.',
    'connect.sid=' + 'a'.repeat(15000),
    'connect.sid=s%3Aone.sig; connect.sid=s%3Atwo.sig',
    'connect.sid="s:' + 'x'.repeat(50) + '"',
    ';;;=;=;',
    'connect.sid=s%3A' + '\u00ff'.repeat(10),
  ]
  for (const h of headers) {
    await request(app).get('/').set('Cookie', h).expect(200, '1')
  }
})

test('engine store: no session is created for a request that never uses it; length and clear', async () => {
  const engine = new Engine()
  const app = appWith(versions.express4, { session: { secret: 'x', engine, key: 'old.key' } }, (app) => {
    counter(app)
    app.get('/nothing', (req, res) => res.send(typeof req.session))
    app.get('/store', (req, res) => req.sessionStore.length((err, n) => res.send(String(n))))
  })
  for (let i = 0; i < 5; i++) await request(app).get('/nothing').expect('object')
  assert.equal(engine.stats().created, 0, 'untouched sessions cost nothing')
  const r = await request(app).get('/').expect('1')
  assert.ok(cookieOf(r, 'old.key'), 'the deprecated key option names the cookie')
  await request(app).get('/store').expect('1')
  const store = new session.EngineStore({ engine })
  await new Promise((resolve, reject) => store.clear((err) => (err ? reject(err) : resolve())))
  assert.equal(engine.stats().live, 0)
  await request(app).get('/read').set('Cookie', cookieOf(r, 'old.key').split(';')[0]).expect('none')
})

test('the client (address, user agent) reaches the engine: a changed user agent is reported', async () => {
  const engine = new Engine({ userAgentPolicy: 'enforce' })
  const app = appWith(versions.express5, { session: { secret: 'x', engine } }, counter)
  const first = await request(app).get('/').set('User-Agent', 'browser A').expect('1')
  const cookie = cookieOf(first).split(';')[0]
  await request(app).get('/').set('User-Agent', 'browser A').set('Cookie', cookie).expect('2')
  await request(app).get('/read').set('User-Agent', 'thief B').set('Cookie', cookie).expect('none')
  assert.ok(engine.drainEvents().some((e) => e.kind === 'user_agent_changed'))
  await request(app).get('/read').set('User-Agent', 'browser A').set('Cookie', cookie).expect('2')
})

test('Store.load and resetMaxAge behave as in express-session', async () => {
  const store = new session.MemoryStore()
  const cookie = new session.Cookie({ maxAge: 60_000 })
  await new Promise((r) => store.set('sid1', { cookie, user: 'u' }, r))
  const loaded = await new Promise((resolve, reject) => store.load('sid1', (err, s) => (err ? reject(err) : resolve(s))))
  assert.ok(loaded instanceof session.Session)
  assert.equal(loaded.id, 'sid1')
  assert.equal(loaded.user, 'u')
  assert.ok(loaded.cookie.expires instanceof Date)
  await new Promise((r) => setTimeout(r, 30))
  const decayed = loaded.cookie.maxAge
  assert.ok(decayed <= 60_000 - 25)
  loaded.resetMaxAge()
  assert.ok(loaded.cookie.maxAge > decayed, 'maxAge restarts from originalMaxAge')
})

test('corner options: sameSite true / none, cookie-parser back-compat, store disconnect, genid gets req', async () => {
  const express = versions.express4
  const strict = appWith(express, { session: { secret: 'x', cookie: { sameSite: true } } }, counter)
  assert.match(cookieOf(await request(strict).get('/')), /; SameSite=Strict$/)
  const none = appWith(express, { trustProxy: true, session: { secret: 'x', cookie: { sameSite: 'none', secure: true } } }, counter)
  assert.match(cookieOf(await request(none).get('/').set('X-Forwarded-Proto', 'https')), /; Secure; SameSite=None$/)

  // cookie-parser ran first and left the raw cookie in req.cookies (no Cookie header reading needed).
  const engine = new Engine()
  const first = await request(appWith(express, { session: { secret: 'x', engine } }, counter)).get('/')
  const raw = decodeURIComponent(cookieOf(first).split(';')[0].slice('connect.sid='.length))
  const parsed = express()
  parsed.use((req, res, next) => { req.cookies = { 'connect.sid': raw }; delete req.headers.cookie; next() })
  parsed.use(session({ secret: 'x', engine }))
  counter(parsed)
  await request(parsed).get('/').expect('2')

  // A store that reports 'disconnect' is bypassed until it reconnects, as in express-session.
  const store = new session.MemoryStore()
  const app = express()
  app.use(session({ secret: 'x', store }))
  app.get('/', (req, res) => res.send(String(req.session === undefined)))
  store.emit('disconnect')
  await request(app).get('/').expect('true')
  store.emit('connect')
  await request(app).get('/').expect('false')

  let seen
  const gen = express()
  gen.use(session({ secret: 'x', store: new session.MemoryStore(), genid: (req) => { seen = req.url; return 'id-' + req.url.length } }))
  counter(gen)
  await request(gen).get('/').expect('1')
  assert.equal(seen, '/')
})

test('an unchanged session is not written back: a write made meanwhile is kept; a changed one is saved', async () => {
  const engine = new Engine({ capacity: 16 })
  const app = appWith(versions.express4, { session: { secret: 'unchanged', engine } }, (app) => {
    counter(app)
    // Another writer changes the stored payload while this request only reads it.
    app.get('/meanwhile', (req, res) => {
      const stored = JSON.parse(engine.load(req.sessionID).data)
      engine.savePayload(req.sessionID, JSON.stringify(Object.assign(stored, { n: 41 })))
      res.send(String(req.session.n))
    })
  })
  const agent = request.agent(app)
  await agent.get('/').expect(200, '1')
  await agent.get('/meanwhile').expect(200, '1')
  await agent.get('/read').expect(200, '41')
  await agent.get('/').expect(200, '42')
  await agent.get('/read').expect(200, '42')
})

// The fast path sessile/express uses (plain Node-API callbacks, stack buffers): it must
// answer as the signature check and then engine.load / engine.save do (the same engine
// work, calls.rs), including on the paths that leave the stack (long payloads, long
// client strings) and on bad input.
test('engine.expressLink: load and save answer as Signer.unsign + load and save do', () => {
  const { Signer } = require('..')
  const engine = new Engine({ capacity: 8, maxPayload: 65536, poolBytes: 1 << 20, userAgentPolicy: 'enforce' })
  const signer = new Signer(['k1', 'k2'])
  const link = engine.expressLink(signer)
  assert.equal(link.clock, undefined)
  const longUa = 'Mozilla/5.0 '.repeat(60) // past the 256-byte stack buffer
  const issued = engine.create({ userAgent: longUa })
  const signed = signature.sign(issued.token, 'k2')
  const viaLoad = (s, ip, ua) => {
    const token = signer.unsign(s)
    if (token === null) return false
    const got = engine.load(token, { ip: ip ?? undefined, userAgent: ua ?? undefined })
    if (got === null) return null
    const data = got.session.principal === undefined ? got.data : [got.data, got.session.principal]
    return [data, got.session.handle, got.session.epoch]
  }
  // The link leaves the session's handle (two halves) and epoch in link.state.
  const stateOf = () => [(BigInt(link.state[0]) << 32n) | BigInt(link.state[1]), link.state[2]]
  const both = (s, ip, ua) => {
    const a = viaLoad(s, ip, ua)
    link.state.fill(0)
    const b = link.load(s, ip, ua)
    if (a === false || a === null) {
      assert.equal(b, a)
      assert.deepEqual(stateOf(), [0n, 0], 'state untouched')
      return b
    }
    assert.deepEqual([b, ...stateOf()], a)
    return b
  }
  const h = issued.session.handle
  const e = issued.session.epoch
  const hi = Number(h >> 32n)
  const lo = Number(h & 0xffffffffn)
  assert.ok(link.state instanceof Uint32Array && link.state.length === 4)
  assert.equal(both(signed, null, longUa), '')
  assert.deepEqual(stateOf(), [h, e])
  // the whole long user agent is compared: one byte off at its end is another client
  assert.equal(both(signed, null, longUa.slice(0, -1) + 'x'), null)
  assert.equal(both(signature.sign(issued.token, 'other'), null, null), false)
  assert.equal(both(issued.token, null, null), false)
  assert.equal(both(signature.sign('A'.repeat(43), 'k1'), null, null), null)
  assert.equal(both(signed + 'x'.repeat(300), null, null), false, 'too long to be a signed token')
  assert.equal(both('é'.repeat(200), null, null), false)
  // payloads: UTF-8 text, and longer than the stack buffer (4 KiB)
  const text = JSON.stringify({ name: 'Zoë 🍪', pad: 'é'.repeat(3000) })
  assert.equal(link.save(hi, lo, e, text), true)
  assert.equal(both(signed, null, longUa), text)
  assert.equal(engine.load(issued.token, { userAgent: longUa }).data, text)
  const cut = 'x'.repeat(4093) + '€' // 4096 bytes: the 3-byte character does not fit the stack buffer whole
  // The write moved the epoch: a save with the epoch of the load before it is dropped
  // (no lost update); the epoch of the latest load saves.
  assert.equal(link.save(hi, lo, e, cut), false)
  assert.equal(both(signed, null, longUa), text)
  assert.equal(link.save(hi, lo, stateOf()[1], cut), true)
  assert.equal(both(signed, null, longUa), cut)
  assert.equal(link.save(hi, lo, stateOf()[1], cut), true, 'unchanged is stored too')
  const li = engine.login(issued.token, 'bob')
  assert.deepEqual(both(signature.sign(li.token, 'k1'), '10.0.0.1', longUa), [cut, 'bob'])
  assert.deepEqual(stateOf(), [li.session.handle, li.session.epoch])
  // A save with the epoch of a load before the login is dropped, as engine.save drops it.
  assert.equal(engine.save(h, e, '{}'), 'dropped')
  assert.equal(link.save(hi, lo, e, '{}'), false)
  // save: the errors engine.save throws, with the same codes and reasons
  const same = (fn1, fn2) => {
    let e1
    let e2
    assert.throws(fn1, (x) => (e1 = x) instanceof Error)
    assert.throws(fn2, (x) => (e2 = x) instanceof Error)
    assert.deepEqual([e2.code, e2.reason, e2.message], [e1.code, e1.reason, e1.message])
    return e2
  }
  const lh = li.session.handle
  const le = li.session.epoch
  const lhi = Number(lh >> 32n)
  const llo = Number(lh & 0xffffffffn)
  assert.equal(same(() => engine.save(lh, le, 'x'.repeat(70000)), () => link.save(lhi, llo, le, 'x'.repeat(70000))).code, 'SESSILE_PAYLOAD_TOO_LARGE')
  assert.deepEqual(link.load(signature.sign(li.token, 'k1'), null, longUa), [cut, 'bob'], 'a failed save keeps the old payload')
  engine.logout(li.token)
  assert.equal(link.save(lhi, llo, le, '{}'), false, 'never onto a logged-out session')
  assert.equal(engine.save(lh, le, '{}'), 'dropped')
  // wrong argument types: a typed error, never a crash
  for (const call of [
    () => link.load(5),
    () => link.load(),
    () => link.save(lhi, llo, le),
    () => link.save(null, 0, 0, '{}'),
    () => link.save(lhi, 2 ** 32, le, '{}'),
    () => link.save(lhi, llo, -1, '{}'),
    () => link.save(lhi, llo, 0.5, '{}'),
    () => link.save(li.token, '{}'),
  ]) {
    assert.throws(call, (x) => x.code === 'SESSILE_INVALID_ARGUMENT')
  }
  assert.throws(() => engine.expressLink({}))
})

// load keeps the signed values it verified (as keyed tags) so that a returning cookie skips
// the HMAC; nothing else may pass because of that.
test('engine.expressLink: a verified cookie is remembered, a forged one never passes', () => {
  const { Signer } = require('..')
  const engine = new Engine({ capacity: 8 })
  const link = engine.expressLink(new Signer(['k1', 'k2']))
  const issued = engine.create()
  engine.savePayload(issued.token, '{"a":1}')
  const good = signature.sign(issued.token, 'k1')
  for (let i = 0; i < 3; i++) assert.equal(link.load(good), '{"a":1}')
  const sig = good.slice(good.lastIndexOf('.') + 1)
  const flipped = good.slice(0, -sig.length) + (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
  for (const forged of [
    issued.token + '.' + 'A'.repeat(43),
    flipped,
    good.slice(0, -1),
    good + 'A',
    signature.sign(issued.token, 'k3'),
    issued.token,
  ]) {
    assert.equal(link.load(forged), false, forged)
  }
  // the other secret's signature is a different text: verified on its own
  assert.equal(link.load(signature.sign(issued.token, 'k2')), '{"a":1}')
  // a remembered cookie whose session ended is still refused by the engine
  engine.logout(issued.token)
  assert.equal(link.load(good), null)
  // many cookies (more than the cache holds) all verify; none is mixed up with another
  const many = Array.from({ length: 6000 }, (_, i) => signature.sign(`t${i}`, 'k1'))
  for (const s of many) assert.equal(link.load(s), null)
  for (const s of many) assert.equal(link.load(s.slice(0, -2) + 'xx'), false)
})

test('engine.expressLink with an injected clock takes the time from its caller', () => {
  const { Signer } = require('..')
  let now = 1000
  const clock = () => now
  const engine = new Engine({ capacity: 4, idleTimeoutMs: 100, clock })
  const signer = new Signer(['k'])
  const link = engine.expressLink(signer)
  assert.equal(link.clock, clock)
  const issued = engine.create()
  const signed = signature.sign(issued.token, 'k')
  const { handle, epoch } = issued.session
  const hi = Number(handle >> 32n)
  const lo = Number(handle & 0xffffffffn)
  assert.equal(link.save(hi, lo, epoch, '{"a":1}', now), true)
  now += 99
  assert.equal(link.load(signed, null, null, now), '{"a":1}')
  now += 100
  assert.equal(link.load(signed, null, null, now), null, 'idle for 100 ms by the given time')
  for (const t of [undefined, -1, NaN, Infinity, '5']) {
    assert.throws(() => link.load(signed, null, null, t), (e) => e.code === 'SESSILE_INVALID_ARGUMENT' && e.reason === 'clock')
    assert.throws(() => link.save(hi, lo, epoch, '{}', t), (e) => e.code === 'SESSILE_INVALID_ARGUMENT' && e.reason === 'clock')
  }
})

// Several copies of the cookie (cookie tossing): the link verifies each and the engine's
// rule (Engine.validateAny) chooses; the answer names the chosen copy by its place.
test('engine.expressLink: load of several copies lets the engine choose among those that verify', () => {
  const { Signer } = require('..')
  const engine = new Engine({ capacity: 8, tombstones: 8 })
  const link = engine.expressLink(new Signer(['k1', 'k2']))
  const s = (token, key = 'k1') => signature.sign(token, key)
  const a = engine.create()
  engine.savePayload(a.token, '{"a":1}')
  const dead = engine.create()
  engine.logout(dead.token)
  const state = () => [(BigInt(link.state[0]) << 32n) | BigInt(link.state[1]), link.state[2]]
  assert.deepEqual(link.load([s(dead.token), 'garbage', s(a.token, 'k2')]), ['{"a":1}', null, 2])
  // The payload write moved the epoch past the one create gave.
  assert.deepEqual(state(), [a.session.handle, engine.load(a.token).session.epoch])
  assert.deepEqual(link.load([s(a.token), s('B'.repeat(43)), s(a.token)]), ['{"a":1}', null, 0])
  assert.deepEqual(link.load(['x'.repeat(500), s(a.token, 'other'), s(a.token)]), ['{"a":1}', null, 2])
  assert.equal(link.load(['x', s(a.token, 'other')]), false, 'no copy verifies')
  assert.equal(link.load([]), false)
  assert.equal(link.load([s(dead.token), s('B'.repeat(43))]), null, 'none live')
  const li = engine.login(a.token, 'bob')
  assert.deepEqual(link.load([s(a.token), s(li.token)], '10.0.0.1', 'ua'), ['{"a":1}', 'bob', 1])
  assert.deepEqual(state(), [li.session.handle, li.session.epoch])
  // Several live: it cannot be told which is the user's; each is ended.
  const b = engine.create()
  engine.drainEvents()
  assert.equal(link.load([s(li.token), s(b.token)]), null)
  assert.deepEqual(engine.drainEvents().map((e) => e.kind), ['duplicate_cookie', 'revoked', 'duplicate_cookie', 'revoked'])
  assert.throws(() => engine.validate(li.token), (e) => e.reason === 'revoked')
  assert.throws(() => engine.validate(b.token), (e) => e.reason === 'revoked')
  for (const bad of [[5], [s(a.token), null]]) {
    assert.throws(() => link.load(bad), (e) => e.code === 'SESSILE_INVALID_ARGUMENT' && e.reason === 'signed')
  }
})

// The cookie value is read as the `cookie` package reads it (decodeURIComponent), however
// its escapes are written: the signature's '+' and '/' in either case, or characters
// escaped that need not be; the session is found each time.
test('a session cookie is read whatever its escapes', async () => {
  const app = appWith(versions.express4, { session: { secret: 'keyboard cat' } }, counter)
  const first = await request(app).get('/').expect('1')
  const value = valueOf(cookieOf(first))
  const hex = (c) => '%' + c.charCodeAt(0).toString(16)
  const spellings = [
    's%3A' + value.slice(2).replace(/[+/=]/g, (c) => hex(c).toLowerCase()),
    's%3A' + value.slice(2).replace(/[+/=]/g, (c) => hex(c).toUpperCase()),
    's%3A' + value.slice(2).replace(/[A-Za-z.+/=]/g, hex),
    's%3A' + value.slice(2),
  ]
  let n = 1
  for (const v of spellings) {
    n++
    await request(app).get('/').set('Cookie', `connect.sid=${v}`).expect(String(n))
  }
  // An escape that is no character leaves the value as it came: not a signed ID.
  await request(app).get('/').set('Cookie', `connect.sid=${spellings[0]}%E2`).expect('1')
})
