'use strict'
// A session cookie sent more than once. Browsers send one cookie per domain and path, so a
// page on a sibling subdomain can plant a `connect.sid` beside the user's ("cookie
// tossing"), and it may be sent first. Which copy is used is the core's rule
// (Engine.validateAny): never the header's order.
const test = require('node:test')
const assert = require('node:assert/strict')
const request = require('supertest')
const signature = require('cookie-signature')
const cookie = require('cookie')
const session = require('../express')
const { Engine } = require('..')

const express = require('express5')

// cookie-parser 1.4 (`cookieParser(secret)`), step by step: `cookie.parse` (the first copy
// of a name wins), then every `s:` value unsigned into req.signedCookies (false when the
// signature fails) and removed from req.cookies. It is not a dependency of this package.
function cookieParser(secret) {
  return function (req, res, next) {
    if (req.cookies) return next()
    req.secret = secret
    req.cookies = Object.create(null)
    req.signedCookies = Object.create(null)
    const header = req.headers.cookie
    if (!header) return next()
    req.cookies = cookie.parse(header)
    for (const key of Object.keys(req.cookies)) {
      const val = req.cookies[key]
      if (typeof val !== 'string' || val.slice(0, 2) !== 's:') continue
      req.signedCookies[key] = signature.unsign(val.slice(2), secret)
      delete req.cookies[key]
    }
    next()
  }
}

function cookieOf(res) {
  const set = (res.headers['set-cookie'] || []).find((c) => c.startsWith('connect.sid='))
  return set && set.split(';')[0]
}

function app(options, parser) {
  const a = express()
  if (parser) a.use(cookieParser('x'))
  a.use(session(Object.assign({ secret: 'x' }, options)))
  a.get('/', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    res.send(String(req.session.n))
  })
  // The app's own notion of the user (what Passport keeps in the session).
  a.post('/as/:user', (req, res) => {
    req.session.user = req.params.user
    res.send('ok')
  })
  a.get('/who', (req, res) => res.send(String(req.session.user)))
  return a
}

async function signedIn(a, user) {
  return cookieOf(await request(a).post('/as/' + user).expect(200))
}

for (const [label, options] of [
  ['engine store', () => ({ engine: new Engine() })],
  ['custom store', () => ({ store: new session.MemoryStore() })],
]) {
  test(`${label}, cookie-parser ran first: a planted, validly signed cookie sent first does not make the victim the attacker`, async () => {
    const a = app(options(), true)
    // The attacker's own session, planted from a sibling subdomain so that it is sent first.
    const planted = await signedIn(a, 'mallory')
    const victim = await signedIn(a, 'alice')
    await request(a).get('/who').set('Cookie', victim).expect('alice')
    const who = await request(a).get('/who').set('Cookie', `${planted}; ${victim}`).expect(200)
    assert.notEqual(who.text, 'mallory', "served the attacker's session")
    assert.equal(who.text, 'undefined')
  })
}

test('cookie-parser ran first and the header has no session cookie: its req.signedCookies is still read', async () => {
  const engine = new Engine()
  const victim = await signedIn(app({ engine }), 'alice')
  const a = express()
  // An app that moved the cookies into req.signedCookies and dropped the header.
  a.use(cookieParser('x'), (req, res, next) => {
    delete req.headers.cookie
    next()
  })
  a.use(session({ secret: 'x', engine }))
  a.get('/who', (req, res) => res.send(String(req.session.user)))
  await request(a).get('/who').set('Cookie', victim).expect('alice')
})

const idOf = (c) => {
  const raw = decodeURIComponent(c.slice('connect.sid='.length))
  return raw.slice(2, raw.lastIndexOf('.'))
}
const signed = (id, secret = 'x') => 'connect.sid=' + encodeURIComponent('s:' + signature.sign(id, secret))

test('engine store: a planted foreign, unknown or dead copy does not lock the user out', async () => {
  const engine = new Engine({ tombstones: 16 })
  const a = app({ engine })
  const mine = cookieOf(await request(a).get('/').expect('1'))
  const dead = await signedIn(a, 'mallory')
  engine.logout(idOf(dead))
  const planted = {
    foreign: 'connect.sid=planted',
    'other secret': signed(idOf(mine), 'not ours'),
    unknown: signed('B'.repeat(43)),
    dead,
  }
  let n = 1
  for (const [what, other] of Object.entries(planted)) {
    for (const header of [`${other}; ${mine}`, `${mine}; ${other}`, `theme=dark; ${other}; ${mine}; ${other}`]) {
      const res = await request(a).get('/').set('Cookie', header).expect(200)
      assert.equal(res.text, String(++n), `${what}: ${header}`)
      assert.equal(cookieOf(res), undefined, 'the same session: no new cookie')
    }
  }
  await request(a).get('/').set('Cookie', `${mine}; ${mine}`).expect(String(++n))
})

test('engine store: two live copies end both sessions; the request gets a fresh one', async () => {
  const engine = new Engine({ tombstones: 16 })
  const a = app({ engine })
  const victim = cookieOf(await request(a).get('/').expect('1'))
  await request(a).get('/').set('Cookie', victim).expect('2')
  const planted = await signedIn(a, 'mallory')
  engine.drainEvents()
  const both = await request(a).get('/').set('Cookie', `${planted}; ${victim}`).expect(200, '1')
  const fresh = cookieOf(both)
  assert.ok(fresh && fresh !== victim && fresh !== planted, 'a fresh session')
  const kinds = engine.drainEvents().map((e) => e.kind)
  assert.deepEqual(kinds.filter((k) => k === 'duplicate_cookie').length, 2, kinds.join())
  await request(a).get('/who').set('Cookie', planted).expect('undefined')
  await request(a).get('/').set('Cookie', victim).expect('1')
  await request(a).get('/').set('Cookie', fresh).expect('2')
})

test('custom store: a planted copy whose signature fails does not lock the user out', async () => {
  const a = app({ store: new session.MemoryStore() })
  const mine = cookieOf(await request(a).get('/').expect('1'))
  let n = 1
  for (const other of ['connect.sid=planted', signed('B'.repeat(43), 'not ours'), 'connect.sid=s%3Aabc.def']) {
    await request(a).get('/').set('Cookie', `${other}; ${mine}`).expect(String(++n))
    await request(a).get('/').set('Cookie', `${mine}; ${other}`).expect(String(++n))
  }
  // Two validly signed IDs: a store other than the engine's cannot say which is live.
  const theirs = cookieOf(await request(a).get('/').expect('1'))
  await request(a).get('/').set('Cookie', `${theirs}; ${mine}`).expect('1')
  await request(a).get('/').set('Cookie', mine).expect(String(++n))
})
