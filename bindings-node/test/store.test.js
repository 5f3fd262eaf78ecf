'use strict'
// SessileStore under the original express-session, and its store API semantics.
const test = require('node:test')
const assert = require('node:assert/strict')
const request = require('supertest')
const expressSession = require('express-session')
const { SessileStore } = require('../express')
const { Engine } = require('..')

const cb = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

for (const label of ['express4', 'express5']) {
  test(`${label}: express-session with SessileStore keeps sessions, regenerates, destroys`, async () => {
    const express = require(label)
    const store = new SessileStore({ capacity: 100 })
    const app = express()
    app.use(expressSession({ secret: 'x', store, resave: false, saveUninitialized: false }))
    app.get('/', (req, res) => { req.session.n = (req.session.n || 0) + 1; res.send(String(req.session.n)) })
    app.get('/regen', (req, res) => req.session.regenerate(() => res.send('ok')))
    app.get('/destroy', (req, res) => req.session.destroy(() => res.send('ok')))
    const agent = request.agent(app)
    await agent.get('/').expect('1')
    await agent.get('/').expect('2')
    assert.equal(await cb((f) => store.length(f)), 1)
    await agent.get('/regen').expect('ok')
    await agent.get('/').expect('1')
    await agent.get('/destroy').expect('ok')
    assert.equal(await cb((f) => store.length(f)), 0)
  })
}

test('store API: get, set, touch, destroy, all, length, clear with express-session semantics', async () => {
  const store = new SessileStore()
  const sess = (ms) => ({ cookie: { originalMaxAge: ms, expires: ms == null ? null : new Date(Date.now() + ms).toISOString(), httpOnly: true, path: '/' }, user: 'u' })
  assert.equal(await cb((f) => store.get('nope', f)), undefined)
  await cb((f) => store.set('a', sess(60000), f))
  await cb((f) => store.set('b', sess(null), f))
  assert.equal((await cb((f) => store.get('a', f))).user, 'u')
  assert.deepEqual(Object.keys(await cb((f) => store.all(f))).sort(), ['a', 'b'])
  assert.equal(await cb((f) => store.length(f)), 2)
  const touched = sess(120000)
  await cb((f) => store.touch('a', touched, f))
  assert.equal((await cb((f) => store.get('a', f))).cookie.originalMaxAge, 120000)
  // When a session ends is the engine's rule (its idle and absolute deadlines, on its
  // clock: the next test); a cookie's expires, read off the wall clock, is not a second
  // timeout.
  await cb((f) => store.set('c', sess(-1000), f))
  assert.equal((await cb((f) => store.get('c', f))).user, 'u', 'a cookie expires in the past ends no session')
  assert.ok('c' in (await cb((f) => store.all(f))))
  await cb((f) => store.destroy('a', f))
  assert.equal(await cb((f) => store.get('a', f)), undefined)
  await cb((f) => store.clear(f))
  assert.equal(await cb((f) => store.length(f)), 0)
})

test('store is bounded and expiring (engine capacity and idle timeout)', async () => {
  const clock = { t: 0 }
  const store = new SessileStore({ capacity: 3, idleTimeoutMs: 1000, absoluteTimeoutMs: 5000, clock: () => clock.t })
  for (let i = 0; i < 10; i++) await cb((f) => store.set('s' + i, { cookie: {}, i }, f))
  assert.equal(store.engine.stats().live, 3, 'the oldest anonymous sessions were evicted')
  assert.ok(store.ids.size <= 6, 'the ID map stays within twice the capacity')
  assert.equal((await cb((f) => store.get('s9', f))).i, 9)
  clock.t = 1500
  assert.equal(await cb((f) => store.get('s9', f)), undefined, 'idle timeout')
  const shared = new Engine()
  assert.equal(new SessileStore({ engine: shared }).engine, shared)
})

test('Cookie.fromStored gives what express-session\'s inflate steps give, or null for foreign fields', () => {
  const { Cookie } = require('../express')
  // express-session's steps: new Cookie(stored), expires back to a Date, originalMaxAge kept.
  const slow = (stored) => {
    const c = new Cookie(stored)
    if (typeof stored.expires === 'string') c.expires = new Date(stored.expires)
    c.originalMaxAge = stored.originalMaxAge
    return c
  }
  const later = new Date(Date.now() + 60_000)
  const cases = [
    new Cookie(),
    new Cookie({ maxAge: 60_000, secure: true, sameSite: 'strict', domain: 'example.com', path: '/app' }),
    new Cookie({ expires: later, httpOnly: false, partitioned: true, priority: 'high' }),
  ].map((c) => JSON.parse(JSON.stringify(c)))
  for (const stored of cases) {
    const fast = Cookie.fromStored(stored)
    const want = slow(stored)
    assert.deepEqual(Object.assign({}, fast), Object.assign({}, want))
    assert.deepEqual(fast.data, want.data)
    assert.equal(JSON.stringify(fast), JSON.stringify(want))
    assert.ok(fast instanceof Cookie)
  }
  assert.equal(Cookie.fromStored({ path: '/', maxAge: 5 }), null)
})

// Passport (0.6 and later) as it drives express-session: req.login regenerates the session
// and then stores the serialised user in req.session.passport.user; req.logout deletes it,
// saves, and regenerates. Passport is not a dependency: these routes take its steps.
function passportApp(express, store, options) {
  const app = express()
  app.use(expressSession(Object.assign({ secret: 'x', store, resave: false, saveUninitialized: true }, options)))
  app.post('/login/:user', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.passport = { user: JSON.parse(req.params.user) }
      req.session.save((err) => (err ? next(err) : res.send('ok')))
    })
  })
  app.post('/logout', (req, res, next) => {
    delete req.session.passport.user
    req.session.save((err) => {
      if (err) return next(err)
      req.session.regenerate((err) => (err ? next(err) : res.send('bye')))
    })
  })
  app.get('/me', (req, res) => res.send(String(req.session.passport ? req.session.passport.user : 'nobody')))
  app.use((err, req, res, next) => res.status(500).send(err.code || err.message))
  return app
}

test('a logged-in session (passport.user) survives a flood of `capacity` cookie-less requests', async () => {
  const store = new SessileStore({ capacity: 8 })
  const app = passportApp(require('express5'), store)
  const alice = request.agent(app)
  await alice.post('/login/"alice"').expect('ok')
  await alice.get('/me').expect('alice')
  for (let i = 0; i < 8; i++) await request(app).get('/me').expect('nobody')
  await alice.get('/me').expect('alice')
  // The engine knows the user: "log out everywhere" reaches the session.
  assert.equal(store.engine.sessionsOf('alice').length, 1)
  assert.equal(store.engine.revokePrincipal('alice'), 1)
  await alice.get('/me').expect('nobody')
})

test('SessileStore names the user: passport.user (a string, a number, an object with an id), or the principal option', async () => {
  const store = new SessileStore({ capacity: 16 })
  const app = passportApp(require('express4'), store)
  const agent = request.agent(app)
  await agent.post('/login/42').expect('ok')
  assert.equal(store.engine.sessionsOf('42').length, 1)
  await agent.post('/login/{"id":"u-7","username":"bea"}').expect('ok')
  assert.equal(store.engine.sessionsOf('u-7').length, 1)
  assert.equal(store.engine.sessionsOf('42').length, 0, 'regenerate ended the previous one')
  // Passport's logout (user deleted, saved, regenerated): the session is no longer the user's.
  await agent.post('/logout').expect('bye')
  await agent.get('/me').expect('nobody')
  assert.equal(store.engine.sessionsOf('u-7').length, 0)
  assert.equal(store.engine.stats().authenticated, 0)

  // The user under the same session ID changes or leaves (no regenerate): the bound
  // session ends and a fresh one carries the data.
  const own = new SessileStore({ principal: (sess) => sess.uid })
  await cb((f) => own.set('sid', { cookie: {}, uid: 'carl', n: 1 }, f))
  assert.equal(own.engine.sessionsOf('carl').length, 1)
  await cb((f) => own.set('sid', { cookie: {}, uid: 'dana', n: 2 }, f))
  assert.equal(own.engine.sessionsOf('carl').length, 0)
  assert.equal(own.engine.sessionsOf('dana').length, 1)
  await cb((f) => own.set('sid', { cookie: {}, n: 3 }, f))
  assert.equal(own.engine.sessionsOf('dana').length, 0)
  assert.equal((await cb((f) => own.get('sid', f))).n, 3)
  assert.equal(own.engine.stats().live, 1)
  const wrong = new SessileStore({ principal: () => 5 })
  await assert.rejects(cb((f) => wrong.set('sid', { cookie: {} }, f)), TypeError)
})

test('all(), length() and prune() do not keep abandoned sessions alive', async () => {
  const clock = { t: 0 }
  const store = new SessileStore({ idleTimeoutMs: 1000, clock: () => clock.t })
  for (const sid of ['a', 'b', 'c']) await cb((f) => store.set(sid, { cookie: {}, sid }, f))
  clock.t = 900
  assert.deepEqual(Object.keys(await cb((f) => store.all(f))).sort(), ['a', 'b', 'c'])
  assert.equal(await cb((f) => store.length(f)), 3)
  store.prune()
  assert.equal(store.ids.size, 3)
  clock.t = 1000
  for (const sid of ['a', 'b', 'c']) assert.equal(await cb((f) => store.get(sid, f)), undefined, sid)
  assert.equal(await cb((f) => store.length(f)), 0)
  assert.deepEqual(store.engine.drainEvents().filter((e) => e.kind === 'expired_idle').length, 3)
})

test('SessileStore refuses unknown options, naming the key', () => {
  assert.throws(() => new SessileStore({ capacty: 5 }), (e) => e instanceof TypeError && /capacty/.test(e.message))
  assert.throws(() => new SessileStore({ engine: new Engine(), capacity: 5 }), (e) => e instanceof TypeError && /capacity/.test(e.message))
  assert.throws(() => new SessileStore({ principal: 'passport.user' }), (e) => e instanceof TypeError && /principal/.test(e.message))
  for (const ok of [{}, undefined, { capacity: 4, idleTimeoutMs: 1000, profile: 'aal2', seed: Buffer.alloc(32), clock: () => 0, cookieSameSite: 'strict' }]) {
    assert.ok(new SessileStore(ok))
  }
})
