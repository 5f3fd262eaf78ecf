'use strict'
// SessionText (lib/express-session/session-text.js): the stored text of a session, the cookie's part
// remembered. It must write exactly what JSON.stringify writes and read back exactly what
// JSON.parse + Cookie.fromStored give, whatever the cookie and data.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Cookie } = require('../lib/express-session/cookie')
const { Session } = require('../lib/express-session/store')
const { SessionText } = require('../lib/express-session/session-text')

// A small deterministic generator (the same cases on every run).
function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
const pick = (r, xs) => xs[Math.floor(r() * xs.length)]

function randomCookie(r) {
  const c = new Cookie(
    pick(r, [
      {},
      { maxAge: 60_000 },
      { maxAge: 1500, secure: true, sameSite: 'strict' },
      { httpOnly: false, path: '/app', domain: 'example.com' },
      { partitioned: true, priority: 'high', secure: true, sameSite: 'none' },
      { sameSite: 'lax', secure: false },
      { expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678)) },
    ]),
  )
  // What apps do to a session's cookie between requests.
  switch (Math.floor(r() * 9)) {
    case 0:
      c.secure = !c.secure
      break
    case 1:
      c.maxAge = pick(r, [10, 3_600_000, null])
      break
    case 2:
      c.sameSite = pick(r, ['lax', 'strict', 'none', true, undefined])
      break
    case 3:
      c.expires = pick(r, [new Date(NaN), new Date(8.64e15), null, 'Tue, 01 Jan 2030 00:00:00 GMT'])
      break
    case 4:
      c.path = pick(r, ['/', '/a"b', '/\\x', '/"expires":null'])
      break
    case 5:
      c.originalMaxAge = pick(r, [0, 1.5, -1, null, NaN])
      break
    default:
  }
  return c
}

function randomData(r) {
  const d = {}
  const n = Math.floor(r() * 4)
  for (let i = 0; i < n; i++) {
    const key = pick(r, ['n', 'user', 'cart', 'at', 'x y', '"q"', 'a\\b', '__proto__', 'cookies'])
    d[key] = pick(r, [1, 'alice', [1, 'two', null], { deep: { er: true } }, new Date(0), null, undefined, '"}', '\u2028é'])
  }
  return d
}

// A session as the middleware holds it: the cookie first, then the data.
function session(cookie, data) {
  const s = new Session({ sessionID: 'sid' })
  s.cookie = cookie
  Object.assign(s, data)
  return s
}

// What the middleware reads from a text without a SessionText.
function slowRead(json) {
  const sess = JSON.parse(json)
  const cookie = Cookie.fromStored(sess.cookie)
  delete sess.cookie
  return [sess, cookie]
}

function assertSameCookie(a, b) {
  assert.equal(Object.getPrototypeOf(a), Cookie.prototype)
  assert.deepEqual(Object.keys(a), Object.keys(b))
  for (const k of Object.keys(b)) {
    if (b[k] instanceof Date) assert.ok(Object.is(a[k].valueOf(), b[k].valueOf()), k)
    else assert.deepEqual(a[k], b[k], k)
  }
}

test('SessionText writes what JSON.stringify writes and reads what JSON.parse reads', () => {
  const r = rng(7)
  const text = new SessionText()
  let spliced = 0
  for (let i = 0; i < 3000; i++) {
    const sess = session(randomCookie(r), randomData(r))
    const want = JSON.stringify(sess)
    const got = text.stringify(sess)
    assert.equal(got, want)
    // The session is left as it was.
    assert.equal(JSON.stringify(sess), want)
    assert.equal(Object.keys(sess)[0], 'cookie')
    const fast = text.parse(got)
    if (fast === undefined) continue
    spliced++
    const [data, cookie] = slowRead(got)
    assert.deepEqual(fast[0], data)
    assert.deepEqual(Object.keys(fast[0]), Object.keys(data))
    assertSameCookie(fast[1], cookie)
  }
  // Most texts take the short way (the check above is not vacuous).
  assert.ok(spliced > 1500, `only ${spliced} texts were read in the remembered layout`)
})

test('SessionText: the same cookie many times, only expires and data changing', () => {
  const text = new SessionText()
  const c = new Cookie({ maxAge: 60_000, secure: true, sameSite: 'strict' })
  for (let i = 0; i < 50; i++) {
    c.maxAge = 60_000 + i
    const sess = session(c, i % 2 ? { n: i } : {})
    const json = text.stringify(sess)
    assert.equal(json, JSON.stringify(sess))
    const fast = text.parse(json)
    assert.ok(fast, 'read in the remembered layout')
    assert.deepEqual(fast[0], i % 2 ? { n: i } : {})
    assert.equal(fast[1].expires.valueOf(), c.expires.valueOf())
    assert.equal(fast[1].originalMaxAge, c.originalMaxAge)
  }
})

test('SessionText: each read gives a Cookie of its own (one request changing its cookie changes no other)', () => {
  const text = new SessionText()
  const sess = session(new Cookie({ secure: true }), { n: 1 })
  const json = text.stringify(sess)
  const a = text.parse(json)[1]
  a.secure = false
  a.maxAge = 5000
  const b = text.parse(json)[1]
  assert.notEqual(a, b)
  assert.equal(b.secure, true)
  assert.equal(b.expires, null)
})

test('SessionText: unusual sessions are written by JSON.stringify itself', () => {
  const text = new SessionText()
  const cases = {
    'integer keys come before the cookie': () => session(new Cookie(), { 7: 'seven', n: 1 }),
    'cookie not the first key': () => {
      const s = new Session({ sessionID: 'sid' })
      s.n = 1
      s.cookie = new Cookie()
      return s
    },
    'a plain object as cookie': () => session({ path: '/', expires: null }, { n: 1 }),
    'no cookie': () => session(undefined, { n: 1 }),
    'a cookie with its own toJSON': () => {
      const c = new Cookie()
      c.toJSON = () => ({ custom: true })
      return session(c, { n: 1 })
    },
    'a session with a toJSON': () => {
      const s = session(new Cookie(), { n: 1 })
      s.toJSON = () => ({ replaced: true })
      return s
    },
    'a frozen session': () => Object.freeze(session(new Cookie(), { n: 1 })),
    'a field that is an object': () => {
      const c = new Cookie()
      c.domain = { toJSON: () => 'example.com' }
      return session(c, { n: 1 })
    },
    'a cookie with its own data': () => {
      const c = new Cookie()
      Object.defineProperty(c, 'data', { value: { own: true } })
      return session(c, { n: 1 })
    },
    'a cookie accessor that ignores writes': () => {
      const s = new Session({ sessionID: 'sid' })
      const c = new Cookie()
      Object.defineProperty(s, 'cookie', { enumerable: true, get: () => c, set() {} })
      s.n = 1
      return s
    },
    'expires a function (no key written)': () => {
      const c = new Cookie()
      c.expires = () => 1
      c.originalMaxAge = null
      return session(c, { n: 1 })
    },
    'not an object (null)': () => null,
    'not an object (a string)': () => 'text',
    'expires a number': () => {
      const c = new Cookie()
      c.expires = 5
      return session(c, { n: 1 })
    },
  }
  for (const [name, make] of Object.entries(cases)) {
    // Teach it the default layout first, so these cases meet a remembered one.
    text.stringify(session(new Cookie(), { n: 0 }))
    const sess = make()
    assert.equal(text.stringify(sess), JSON.stringify(sess), name)
  }
  // A field that is an object can change without the cookie changing.
  const domain = { name: 'a.example', toJSON() { return this.name } }
  const c = new Cookie()
  c.domain = domain
  const sess = session(c, {})
  assert.equal(text.stringify(sess), JSON.stringify(sess))
  domain.name = 'b.example'
  assert.equal(text.stringify(sess), JSON.stringify(sess))
  // Errors are JSON.stringify's own.
  const big = session(new Cookie(), { n: 1n })
  assert.throws(() => text.stringify(big), TypeError)
  assert.equal(typeof big.cookie.serialize, 'function', 'the cookie is put back after an error')
  const cyclic = session(new Cookie(), {})
  cyclic.self = cyclic
  assert.throws(() => text.stringify(cyclic), TypeError)
  assert.ok(cyclic.cookie instanceof Cookie)
})

test('SessionText: any other text reads as JSON.parse reads it, or is left to JSON.parse', () => {
  const text = new SessionText()
  const base = session(new Cookie({ maxAge: 1000 }), { n: 1 })
  const json = text.stringify(base)
  assert.ok(text.parse(json))
  const head = json.slice(0, json.indexOf('"expires":') + 10)
  const tail = json.slice(json.indexOf('"httpOnly"') - 1)
  const others = [
    json.replace('{"cookie":', '{ "cookie":'),
    json.replace(/"expires":"[^"]*"/, '"expires":5'),
    head + '"2030-01-01T00:00:00.000\\u005a"' + tail,
    json.replace('"n":1}', '"n":1,"cookie":{}}'),
    json + ' ',
    json.slice(0, -1) + ',}',
    json.replace('"path":"/"', '"path":"/x"'),
    '{"n":1,' + json.slice(1),
    '',
  ]
  let left = 0
  for (const other of others) {
    const fast = text.parse(other)
    let slow
    try {
      slow = slowRead(other)
    } catch {
      assert.equal(fast, undefined, other)
    }
    if (fast === undefined) {
      left++
      continue
    }
    assert.deepEqual(fast[0], slow[0], other)
    assertSameCookie(fast[1], slow[1])
  }
  assert.ok(left >= others.length - 1, 'all but the trailing space are left to JSON.parse')
})
