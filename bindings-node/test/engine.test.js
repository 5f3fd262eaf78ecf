'use strict'
// The native engine: every operation, every error code, events, the injectable clock.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { EventEmitter } = require('node:events')
const { Engine, errorCodes, eventKinds } = require('..')

const globalsBefore = new Set(Object.keys(globalThis))

function clocked(options) {
  const clock = { t: 0 }
  const engine = new Engine(Object.assign({ clock: () => clock.t }, options))
  return { engine, clock }
}

function throwsCode(fn, code, reason) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Error, 'an Error')
    assert.equal(err.code, code)
    if (reason !== undefined) assert.equal(err.reason, reason)
    assert.ok(err.message.length > 0)
    return true
  })
}

test('create, validate, payload as Buffer and JSON', () => {
  const { engine } = clocked()
  const { token, session } = engine.create()
  assert.match(token, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(typeof session.handle, 'bigint')
  engine.write(session.handle, Buffer.from([0, 1, 2, 255]))
  assert.deepEqual([...engine.read(session.handle)], [0, 1, 2, 255])
  engine.writeJson(session.handle, { cart: [1, 2] })
  assert.deepEqual(engine.readJson(session.handle), { cart: [1, 2] })
  const again = engine.validate(token)
  assert.equal(again.payloadLength, '{"cart":[1,2]}'.length)
  assert.equal(engine.load(token).data, '{"cart":[1,2]}')
  assert.equal(engine.load('A'.repeat(43)), null)
})

test('login rotates and keeps data; the old token is dead (anti-fixation)', () => {
  const { engine } = clocked()
  const anon = engine.create()
  engine.writeJson(anon.session.handle, { n: 1 })
  const user = engine.login(anon.token, 'alice')
  assert.notEqual(user.token, anon.token)
  assert.equal(user.session.principal, 'alice')
  assert.deepEqual(engine.readJson(user.session.handle), { n: 1 })
  throwsCode(() => engine.validate(anon.token), 'SESSILE_SESSION_INVALID', 'rotated_out')
  const rotated = engine.rotate(user.token)
  throwsCode(() => engine.validate(user.token), 'SESSILE_SESSION_INVALID', 'rotated_out')
  assert.equal(engine.sessionsOf('alice').length, 1)
  engine.logout(rotated.token)
  throwsCode(() => engine.validate(rotated.token), 'SESSILE_SESSION_INVALID')
})

test('idle and absolute timeouts are exact, in milliseconds', () => {
  const { engine, clock } = clocked({ idleTimeoutMs: 1000, absoluteTimeoutMs: 2500 })
  const { token } = engine.create()
  clock.t = 999
  engine.validate(token)
  clock.t = 1998
  engine.validate(token)
  clock.t = 2500
  throwsCode(() => engine.validate(token), 'SESSILE_SESSION_INVALID', 'expired_absolute')
  const b = engine.create()
  clock.t += 1000
  throwsCode(() => engine.validate(b.token), 'SESSILE_SESSION_INVALID', 'expired_idle')
  assert.equal(engine.nowMs(), clock.t)
})

test('by handle, a session past its deadline is expired even before a sweep', () => {
  const { engine, clock } = clocked({ idleTimeoutMs: 1000 })
  const a = engine.login(engine.create().token, 'ann')
  const b = engine.create()
  engine.writeString(b.session.handle, 'kept until the deadline')
  clock.t = 999
  assert.equal(engine.readString(b.session.handle), 'kept until the deadline')
  assert.equal(engine.sessionsOf('ann').length, 1)
  clock.t = 1000
  assert.equal(engine.sessionsOf('ann').length, 0)
  throwsCode(() => engine.session(a.session.handle), 'SESSILE_SESSION_INVALID', 'expired_idle')
  throwsCode(() => engine.readString(b.session.handle), 'SESSILE_SESSION_INVALID', 'expired_idle')
  throwsCode(() => engine.read(b.session.handle), 'SESSILE_STALE_HANDLE')
  throwsCode(() => engine.validate(b.token), 'SESSILE_SESSION_INVALID', 'expired_idle')
})

test('log out everywhere, revoke by handle, per-session timeouts', () => {
  const { engine } = clocked()
  const a = engine.login(engine.create().token, 'bob')
  const b = engine.login(engine.create().token, 'bob')
  engine.setTimeouts(a.session.handle, 5000, null)
  assert.equal(engine.session(a.session.handle).idleTimeoutMs, 5000)
  engine.revoke(b.session.handle)
  throwsCode(() => engine.session(b.session.handle), 'SESSILE_STALE_HANDLE')
  assert.equal(engine.revokePrincipal('bob'), 1)
  throwsCode(() => engine.validate(a.token), 'SESSILE_SESSION_INVALID', 'revoked')
})

// As in Python and C: a principal no login accepts (empty, over 128 bytes) has no sessions,
// so "log out everywhere" for it ends none (the core answers; only login refuses it).
test('revokePrincipal and sessionsOf of a principal no login accepts: 0 and none, as in every binding', () => {
  const { engine } = clocked()
  const carl = engine.login(engine.create().token, 'carl')
  for (const nobody of ['', Buffer.alloc(0), 'x'.repeat(129)]) {
    assert.equal(engine.revokePrincipal(nobody), 0)
    assert.deepEqual(engine.sessionsOf(nobody), [])
  }
  assert.equal(engine.validate(carl.token).principal, 'carl', 'nobody else was logged out')
  throwsCode(() => engine.login(engine.create().token, ''), 'SESSILE_INVALID_PRINCIPAL')
})

test('security events are plain objects, emitted on an EventEmitter', () => {
  const { engine } = clocked({ tombstones: 16 })
  assert.ok(engine instanceof Engine)
  assert.equal(typeof engine.on, 'function')
  assert.equal(engine.emit, EventEmitter.prototype.emit)
  const kinds = []
  const reuse = []
  engine.on('event', (e) => kinds.push(e.kind))
  engine.on('reuse_after_logout', (e) => reuse.push(e))
  const { token } = engine.create()
  engine.logout(token)
  throwsCode(() => engine.validate(token), 'SESSILE_SESSION_INVALID', 'logged_out')
  assert.equal(engine.emitEvents(), 3)
  assert.deepEqual(kinds, ['created', 'logged_out', 'reuse_after_logout'])
  assert.equal(reuse.length, 1)
  assert.equal(Object.getPrototypeOf(reuse[0]), Object.prototype)
  assert.match(reuse[0].session, /^[0-9a-f]{16}$/)
  assert.equal(reuse[0].alert, true)
  assert.equal(engine.drainEvents().length, 0)
})

test('every error code is thrown with its stable code', () => {
  const small = new Engine({ capacity: 1, poolBytes: 64, maxPayload: 64 })
  const one = small.login(small.create().token, 'u')
  throwsCode(() => small.create(), 'SESSILE_CAPACITY_EXHAUSTED')
  throwsCode(() => small.write(one.session.handle, Buffer.alloc(65)), 'SESSILE_PAYLOAD_TOO_LARGE')
  const pool = new Engine({ capacity: 4, poolBytes: 512, maxPayload: 400 })
  const p1 = pool.login(pool.create().token, 'a')
  const p2 = pool.login(pool.create().token, 'b')
  pool.write(p1.session.handle, Buffer.alloc(300))
  throwsCode(() => pool.write(p2.session.handle, Buffer.alloc(300)), 'SESSILE_POOL_EXHAUSTED')
  const e = new Engine({ maxSessionsPerPrincipal: 1, principalLimitPolicy: 'refuse' })
  e.login(e.create().token, 'carol')
  throwsCode(() => e.login(e.create().token, 'carol'), 'SESSILE_PRINCIPAL_LIMIT')
  throwsCode(() => e.login(e.create().token, ''), 'SESSILE_INVALID_PRINCIPAL')
  throwsCode(() => e.login(e.create().token, 'x'.repeat(129)), 'SESSILE_INVALID_PRINCIPAL')
  const s = e.create()
  throwsCode(() => e.setTimeouts(s.session.handle, 0, null), 'SESSILE_INVALID_TIMEOUT')
  throwsCode(() => new Engine({ capacity: 0 }), 'SESSILE_CONFIG', 'capacity')
  throwsCode(() => new Engine({ idleTimeoutMs: 10, absoluteTimeoutMs: 5 }), 'SESSILE_CONFIG', 'idle_above_absolute')
  throwsCode(() => new Engine({ cookieSecure: false }), 'SESSILE_CONFIG', 'cookie_host_prefix_needs_secure')
  throwsCode(() => new Engine({ cookieName: 'a b' }), 'SESSILE_CONFIG', 'cookie_invalid_name')
  throwsCode(() => e.tokenFromCookieHeader('__Host-sid=a; __Host-sid=b'), 'SESSILE_COOKIE', 'duplicate')
  throwsCode(() => e.tokenFromCookieHeader('x'.repeat(16 * 1024 + 1)), 'SESSILE_COOKIE', 'header_too_long')
  throwsCode(() => e.validate('not a token'), 'SESSILE_SESSION_INVALID', 'malformed')
  throwsCode(() => e.validate('A'.repeat(43)), 'SESSILE_SESSION_INVALID', 'unknown')
  throwsCode(() => e.session(123456789n), 'SESSILE_STALE_HANDLE')
  throwsCode(() => e.revoke(-1n), 'SESSILE_INVALID_ARGUMENT', 'handle')
  // Codes the binding cannot reach on purpose from JS (fixed storage, the OS refusing
  // entropy or memory, a too-small output buffer) are still listed, so callers can match
  // on them.
  for (const code of ['SESSILE_BUFFER_TOO_SMALL', 'SESSILE_STORAGE_SIZE', 'SESSILE_ENTROPY', 'SESSILE_OUT_OF_MEMORY']) {
    assert.ok(errorCodes().includes(code))
  }
})

test('bad inputs of every kind give typed errors, never a crash', () => {
  const e = new Engine()
  // A value a config key does not take is the core's refusal, naming the option.
  for (const [key, value] of [
    ['capacity', -1],
    ['capacity', 1.5],
    ['capacity', NaN],
    ['capacity', '10'],
    ['idleTimeoutMs', Infinity],
    ['profile', 'aal9'],
    ['ipPolicy', 'maybe'],
    ['principalLimitPolicy', 'evict_oldest'],
    ['rotatedReuse', 'x'],
    ['cookieSameSite', 'sideways'],
    ['cookiePriority', 'urgent'],
    ['cookieSecure', 1],
    ['cookieName', null],
    ['cookieName', { name: 'sid' }],
  ]) {
    assert.throws(() => new Engine({ [key]: value }), (err) => {
      assert.equal(err.code, 'SESSILE_CONFIG', `${key}: ${value}`)
      assert.equal(err.reason, 'bad_value', `${key}: ${value}`)
      assert.equal(err.key, key)
      assert.ok(err.message.startsWith(key + ':'), err.message)
      return true
    })
  }
  const bad = [
    () => new Engine({ seed: Buffer.alloc(3) }),
    () => new Engine({ seed: 'x'.repeat(32) }),
    () => new Engine({ clock: 5 }),
    () => new Engine(5),
    () => e.setTimeouts(e.create().session.handle, -5, null),
  ]
  for (const fn of bad) throwsCode(fn, 'SESSILE_INVALID_ARGUMENT')
  for (const fn of [() => e.validate(42), () => e.validate(null), () => e.write(1n, 'not a buffer'), () => e.revoke('1')]) {
    assert.throws(fn, Error)
  }
  for (const token of ['', '\0', 'é'.repeat(43), 'A'.repeat(10000), '../../etc/passwd']) {
    throwsCode(() => e.validate(token), 'SESSILE_SESSION_INVALID')
  }
  const clockFails = new Engine({ clock: () => -1 })
  throwsCode(() => clockFails.create(), 'SESSILE_INVALID_ARGUMENT', 'clock')
  const clockThrows = new Engine({ clock: () => { throw new Error('boom') } })
  assert.throws(() => clockThrows.create(), /boom/)
})

test('a fixed seed gives reproducible IDs; cookies use the configured attributes', () => {
  const seed = Buffer.alloc(32, 7)
  const a = new Engine({ seed, clock: () => 0 })
  const b = new Engine({ seed, clock: () => 0 })
  assert.equal(a.create().token, b.create().token)
  const { token, session } = a.create()
  assert.equal(a.setCookie(token, session), `__Host-sid=${token}; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax`)
  assert.equal(a.tokenFromCookieHeader(`theme=dark; __Host-sid=${token}`), token)
  assert.equal(a.tokenFromCookieHeader('theme=dark'), null)
  assert.match(a.clearCookie(), /^__Host-sid=; .*Max-Age=0/)
  const c = new Engine({ profile: 'aal3', cookieName: 'sid', cookieSecure: false, cookieSameSite: 'strict', cookiePriority: 'high', cookiePersistent: false })
  const s = c.create()
  assert.equal(c.setCookie(s.token, s.session), `sid=${s.token}; Path=/; HttpOnly; SameSite=Strict; Priority=High`)
  assert.equal(s.session.idleTimeoutMs, 15 * 60000)
  assert.equal(c.cookieName, 'sid')
})

test('stats count what happened', () => {
  const { engine, clock } = clocked({ idleTimeoutMs: 10, absoluteTimeoutMs: 10 })
  engine.create()
  engine.create()
  clock.t = 100
  assert.equal(engine.sweep(), 2)
  const s = engine.stats()
  assert.equal(s.created, 2)
  assert.equal(s.live, 0)
  assert.equal(s.expirations, 2)
  assert.equal(s.capacity, 10000)
})

test('index.d.ts lists exactly the codes the binding throws', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const union = dts.slice(dts.indexOf('export type SessileErrorCode'), dts.indexOf('/** Why a token'))
  const typed = [...union.matchAll(/'(SESSILE_[A-Z_]+)'/g)].map((m) => m[1]).sort()
  assert.deepEqual(typed, [...errorCodes()].sort())
})

test('index.d.ts lists exactly the event kinds the engine reports', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const record = dts.slice(dts.indexOf('export interface EventRecord'))
  const union = record.slice(record.indexOf('kind:'), record.indexOf('\n', record.indexOf('kind:')))
  const typed = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1])
  assert.deepEqual(typed, eventKinds())
  assert.ok(eventKinds().includes('duplicate_cookie'))
})

test('package version follows the workspace version', () => {
  const cargo = fs.readFileSync(path.join(__dirname, '..', '..', 'Cargo.toml'), 'utf8')
  const ws = cargo.slice(cargo.indexOf('[workspace.package]'))
  const version = /\nversion = "([^"]+)"/.exec(ws)[1]
  assert.equal(require('../package.json').version, version)
})

test('no global variable leaks', () => {
  require('../express')
  const leaked = Object.keys(globalThis).filter((k) => !globalsBefore.has(k))
  assert.deepEqual(leaked, [])
})

test('load / savePayload (what the middleware does per request) and revokeAll', () => {
  const { engine, clock } = clocked({ idleTimeoutMs: 1000, absoluteTimeoutMs: 5000 })
  const { token } = engine.create()
  assert.equal(engine.load(token).data, '')
  engine.savePayload(token, '{"a":1}')
  assert.equal(engine.load(token, { ip: '10.0.0.1', userAgent: 'ua' }).data, '{"a":1}')
  const user = engine.login(token, 'dave')
  assert.equal(engine.load(user.token).session.principal, 'dave')
  assert.equal(engine.load(token), null, 'rotated-out token')
  throwsCode(() => engine.savePayload(token, 'x'), 'SESSILE_SESSION_INVALID', 'rotated_out')
  throwsCode(() => engine.savePayload(user.token, 'x'.repeat(16 * 1024 + 1)), 'SESSILE_PAYLOAD_TOO_LARGE')
  clock.t = 900
  engine.load(user.token)
  clock.t = 1800
  assert.equal(engine.load(user.token).data, '{"a":1}', 'loading restarts the idle timer')
  const long = JSON.stringify({ pad: 'é'.repeat(3000) }) // past the 4 KiB stack buffer
  engine.savePayload(user.token, long)
  assert.equal(engine.load(user.token).data, long)
  engine.create()
  assert.equal(engine.revokeAll(), 2)
  assert.equal(engine.stats().live, 0)
  throwsCode(() => engine.validate(user.token), 'SESSILE_SESSION_INVALID')
})

test('Signer: cookie-signature compatible, rotates secrets, constant-time verify', () => {
  const { Signer } = require('..')
  const signature = require('cookie-signature')
  const s = new Signer(['new', Buffer.from('old')])
  for (const v of ['abc', '', 'a.b.c', 'ünï', 'x'.repeat(1000)]) {
    assert.equal(s.sign(v), signature.sign(v, 'new'))
    assert.equal(s.unsign(signature.sign(v, 'new')), v)
    assert.equal(s.unsign(signature.sign(v, 'old')), v)
    assert.equal(s.unsign(signature.sign(v, 'other')), null)
  }
  for (const bad of ['', 'nodot', 'abc.', '.', 'abc.!!!!', 'abc.' + 'A'.repeat(43)]) assert.equal(s.unsign(bad), null)
  throwsCode(() => new Signer([]), 'SESSILE_INVALID_ARGUMENT', 'secrets')
  throwsCode(() => new Signer(['']), 'SESSILE_INVALID_ARGUMENT', 'secrets')
})

test('peek reports a session, or why its token is dead, without touching anything', () => {
  const { engine, clock } = clocked({ idleTimeoutMs: 1000, tombstones: 8, userAgentPolicy: 'enforce' })
  const a = engine.create({ userAgent: 'browser A' })
  const b = engine.login(engine.create().token, 'erin')
  engine.logout(b.token)
  engine.drainEvents()
  clock.t = 900
  const seen = engine.peek(a.token)
  assert.equal(seen.tag, a.session.tag)
  assert.equal(seen.lastSeenMs, 0, 'the idle timer did not restart')
  assert.equal(seen.idleDeadlineMs, 1000)
  throwsCode(() => engine.peek(b.token), 'SESSILE_SESSION_INVALID', 'logged_out')
  throwsCode(() => engine.peek('not a token'), 'SESSILE_SESSION_INVALID', 'malformed')
  assert.deepEqual(engine.drainEvents(), [], 'no reuse event, no client check')
  clock.t = 1000
  throwsCode(() => engine.peek(a.token), 'SESSILE_SESSION_INVALID', 'expired_idle')
  assert.equal(engine.stats().live, 1, 'a lapsed session is reported, not ended')
  throwsCode(() => engine.validate(a.token), 'SESSILE_SESSION_INVALID', 'expired_idle')
})

test('validateCookie and validateAny apply the core\'s duplicate rule', () => {
  const { engine, clock } = clocked({ capacity: 8, tombstones: 8, cookieName: 'sid', cookieSecure: false })
  const user = engine.create()
  const dead = engine.create()
  engine.logout(dead.token)
  // A planted dead, unknown or foreign copy, before or after, is passed over.
  for (const other of [dead.token, 'A'.repeat(43), 'planted']) {
    clock.t += 1
    for (const header of [`sid=${other}; sid=${user.token}`, `theme=dark; sid=${user.token}; sid=${other}`]) {
      const got = engine.validateCookie(header)
      assert.equal(got.token, user.token, header)
      assert.equal(got.session.lastSeenMs, clock.t, 'the chosen copy is validated')
    }
    assert.equal(engine.validateAny([other, Buffer.from(user.token)]).token, user.token)
  }
  assert.equal(engine.validateCookie('theme=dark'), null)
  assert.equal(engine.validateCookie(''), null)
  // None live: the first copy answers.
  throwsCode(() => engine.validateAny([dead.token, 'planted']), 'SESSILE_SESSION_INVALID', 'logged_out')
  throwsCode(() => engine.validateCookie('sid=planted; sid=' + dead.token), 'SESSILE_SESSION_INVALID', 'malformed')
  throwsCode(() => engine.validateAny([]), 'SESSILE_SESSION_INVALID', 'unknown')
  throwsCode(() => engine.validateCookie('x'.repeat(16 * 1024 + 1)), 'SESSILE_COOKIE', 'header_too_long')
  // Several live: each is ended, and the request is refused.
  const planted = engine.create()
  engine.drainEvents()
  throwsCode(() => engine.validateCookie(`sid=${planted.token}; sid=${user.token}`), 'SESSILE_COOKIE', 'duplicate')
  throwsCode(() => engine.validate(user.token), 'SESSILE_SESSION_INVALID', 'revoked')
  throwsCode(() => engine.validate(planted.token), 'SESSILE_SESSION_INVALID', 'revoked')
  const events = engine.drainEvents().map((e) => [e.kind, e.session, e.alert])
  assert.deepEqual(events.slice(0, 4), [
    ['duplicate_cookie', planted.session.tag, true],
    ['revoked', planted.session.tag, false],
    ['duplicate_cookie', user.session.tag, true],
    ['revoked', user.session.tag, false],
  ])
})

test('reseed: tokens no longer follow the seeded stream; sessions are kept', () => {
  const seed = Buffer.alloc(32, 9)
  const a = new Engine({ seed, clock: () => 0 })
  const b = new Engine({ seed, clock: () => 0 })
  const first = a.create()
  assert.equal(first.token, b.create().token)
  a.reseed()
  assert.notEqual(a.create().token, b.create().token)
  assert.equal(a.validate(first.token).tag, first.session.tag)
})
