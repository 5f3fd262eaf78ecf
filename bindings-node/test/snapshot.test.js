'use strict'
// engine.snapshot / Engine.restore: a restart keeps every session and every dead token,
// deadlines keep counting in wall-clock time, and a file that is not what was written
// under this key is refused with SESSILE_SNAPSHOT and a reason.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Engine } = require('..')

const KEY = Buffer.alloc(32, 7)
const WALL = 1_796_000_000_000
const SMALL = { capacity: 64, poolBytes: 64 * 1024, maxPayload: 4096, idleTimeoutMs: 60_000 }

// Every folder a test makes is removed when the file's tests are done.
const made = []
test.after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))
function dir() {
  made.push(fs.mkdtempSync(path.join(os.tmpdir(), 'sessile-snap-')))
  return made[made.length - 1]
}

/** A new process's engine: its clock starts again at 0, `gap` ms later. */
function restart(file, gap, options) {
  const { key, ...rest } = options || {}
  return Engine.restore(file, key || KEY, { ...SMALL, clock: () => 0, wallMs: WALL + gap, ...rest })
}

function written() {
  const t = { now: 500_000 }
  const e = new Engine({ ...SMALL, clock: () => t.now })
  const anon = e.create().token
  const first = e.create().token
  const alice = e.login(first, 'alice')
  e.writeJson(alice.session.handle, { cart: [1, 2] })
  const gone = e.create().token
  e.logout(gone)
  t.now += 10_000
  e.validate(alice.token)
  const file = path.join(dir(), 'sessions.snap')
  const size = e.snapshot(file, KEY, { wallMs: WALL })
  assert.equal(size, fs.statSync(file).size)
  return { file, tokens: { anon, preLogin: first, alice: alice.token, gone } }
}

function throwsSnapshot(fn, reason) {
  assert.throws(fn, (err) => {
    assert.equal(err.code, 'SESSILE_SNAPSHOT')
    assert.equal(err.reason, reason)
    return true
  })
}

test('a restart keeps sessions, payloads, listings and dead tokens', () => {
  const { file, tokens } = written()
  const e = restart(file, 5_000)
  assert.ok(e instanceof Engine)
  const s = e.validate(tokens.alice)
  assert.equal(s.principal, 'alice')
  assert.deepEqual(e.readJson(s.handle), { cart: [1, 2] })
  assert.deepEqual(e.sessionsOf('alice').map((x) => x.handle), [s.handle])
  e.validate(tokens.anon)
  for (const [token, reason] of [[tokens.preLogin, 'rotated_out'], [tokens.gone, 'logged_out']]) {
    assert.throws(() => e.validate(token), (err) => err.reason === reason)
  }
  assert.equal(e.stats().live, 2)
})

test('deadlines keep counting while the process is down', () => {
  const { file, tokens } = written()
  // alice was used at the snapshot, anon 10 s before it; both idle out after 60 s.
  let e = restart(file, 49_999)
  assert.equal(e.peek(tokens.alice).idleDeadlineMs, 10_001)
  e.validate(tokens.anon)
  e = restart(file, 50_000)
  assert.throws(() => e.validate(tokens.anon), (err) => err.reason === 'expired_idle')
  e.validate(tokens.alice)
  assert.deepEqual(e.drainEvents().map((ev) => ev.kind), ['expired_idle'])
})

test('the file is private, holds nothing readable, and is replaced whole', () => {
  const { file, tokens } = written()
  const data = fs.readFileSync(file)
  for (const secret of ['alice', 'cart', tokens.alice]) {
    assert.equal(data.indexOf(secret), -1)
  }
  assert.equal(fs.statSync(file).mode & 0o777, 0o600)
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['sessions.snap'])
})

test('a changed, cut, extended or foreign file is refused and the app starts empty', () => {
  const { file, tokens } = written()
  const good = fs.readFileSync(file)
  const flip = (b, i) => Buffer.concat([b.subarray(0, i), Buffer.from([b[i] ^ 1]), b.subarray(i + 1)])
  const cases = [
    [Buffer.concat([Buffer.from('NOTSNAPS'), good.subarray(8)]), 'snapshot_unrecognized'],
    [flip(good, 8), 'snapshot_version'],
    [good.subarray(0, good.length - 1), 'snapshot_truncated'],
    [flip(good, 100), 'snapshot_tampered'],
    [flip(good, good.length - 1), 'snapshot_tampered'],
    [Buffer.concat([good, Buffer.from([0])]), 'snapshot_tampered'],
  ]
  for (const [bytes, reason] of cases) {
    fs.writeFileSync(file, bytes)
    throwsSnapshot(() => restart(file, 1_000), reason)
  }
  const e = new Engine(SMALL)
  assert.throws(() => e.validate(tokens.alice), (err) => err.reason === 'unknown')
})

test('wrong key, stale, future and smaller config are refused by name', () => {
  const { file } = written()
  throwsSnapshot(() => restart(file, 1_000, { key: Buffer.alloc(32, 8) }), 'snapshot_wrong_key')
  throwsSnapshot(() => restart(file, 1_000, { key: Buffer.alloc(16, 7) }), 'snapshot_key')
  throwsSnapshot(() => restart(file, 3_600_001), 'snapshot_stale')
  throwsSnapshot(() => restart(file, 11, { maxAgeMs: 10 }), 'snapshot_stale')
  throwsSnapshot(() => restart(file, -1), 'snapshot_future')
  throwsSnapshot(() => restart(file, 1_000, { capacity: 63 }), 'snapshot_does_not_fit')
  assert.throws(
    () => restart(file, 1_000, { tokenBytes: 16 }),
    (err) => err.reason === 'snapshot_does_not_fit' && err.key === 'tokenBytes',
  )
  restart(file, 3_600_000)
  restart(file, 10, { maxAgeMs: 10 })
})

test('restoreFrom only into an empty engine; bad arguments and missing files', () => {
  const { file } = written()
  const e = new Engine(SMALL)
  e.create()
  throwsSnapshot(() => e.restoreFrom(file, KEY, { wallMs: WALL }), 'snapshot_not_empty')
  assert.throws(() => Engine.restore(path.join(dir(), 'missing'), KEY), (err) => err.code === 'ENOENT')
  assert.throws(() => e.snapshot(path.join(dir(), 'no', 'such'), KEY), (err) => err.code === 'ENOENT')
  assert.throws(() => e.snapshot(file, KEY, { wallMs: -1 }), (err) => err.code === 'SESSILE_INVALID_ARGUMENT')
  assert.throws(() => Engine.restore(file, KEY, { maxAgeMs: 1.5 }), (err) => err.code === 'SESSILE_INVALID_ARGUMENT')
  assert.throws(() => Engine.restore(file, KEY, { capacity: 0 }), (err) => err.code === 'SESSILE_CONFIG')
  assert.throws(() => e.snapshot(file, 'a string is no key'))
})
