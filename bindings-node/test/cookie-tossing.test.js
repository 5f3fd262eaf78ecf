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
