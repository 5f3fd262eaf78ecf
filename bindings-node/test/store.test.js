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
  await cb((f) => store.set('c', sess(1), f))
  await new Promise((r) => setTimeout(r, 10))
  assert.equal(await cb((f) => store.get('c', f)), undefined, 'an expired cookie ends the session')
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
