'use strict'
// The engine's options are the core's config vocabulary, read off it (configKeys()): a
// key added to the core is an option of `new Engine`, shown by `engine.config`, typed in
// options.d.ts, with no edit in this package.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { CookieConfig, Engine, configKeys, resolveOptions } = require('..')

const keys = configKeys()

/** A value of `k`'s kind other than its default. */
function other(k) {
  switch (k.kind) {
    case 'count':
    case 'millis':
      return k.default + 1 <= k.max ? k.default + 1 : k.default - 1
    case 'flag':
      return !k.default
    case 'choice':
      return k.choices.find((c) => c !== k.default)
    case 'text':
      return (k.default ?? '') + 'x'
  }
  assert.fail(`${k.name}: a kind this test does not know: ${k.kind}`)
}

test('configKeys() lists the core vocabulary under camelCase names', () => {
  assert.ok(keys.length >= 26, 'every key of docs/CONFIG.md')
  for (const k of keys) {
    assert.equal(k.name, k.coreName.replace(/_([a-z])/g, (_, c) => c.toUpperCase()))
    assert.ok(k.doc.length > 0, k.name)
  }
  const byName = Object.fromEntries(keys.map((k) => [k.name, k]))
  assert.deepEqual(byName.cookieSameSite.choices, ['strict', 'lax', 'none', 'omit'])
  assert.deepEqual([byName.idleTimeoutMs.kind, byName.idleTimeoutMs.default], ['millis', 1_800_000])
  assert.deepEqual([byName.cookieDomain.nullable, byName.cookieDomain.default], [true, null])
  assert.equal(byName.profile.kept, false, 'a preset, not kept')
})

test('every key of configKeys() is an option of new Engine and shown by engine.config', () => {
  const defaults = Object.fromEntries(keys.filter((k) => k.kept).map((k) => [k.name, k.default]))
  assert.deepEqual(new Engine().config, defaults)
  assert.deepEqual(resolveOptions(), defaults)
  assert.deepEqual(new Engine(defaults).config, defaults, 'every kept key given at its default')
  // The store's keys (`store: true`) take URLs and keys: redis.test.js.
  for (const k of keys.filter((k) => !k.store)) {
    const value = other(k)
    let engine
    try {
      engine = new Engine({ [k.name]: value })
    } catch (err) {
      // The value reached the core, which refused it by a rule between keys (a
      // `__Host-` cookie needs Secure, no Domain and Path=/), never as unknown or bad.
      assert.equal(err.code, 'SESSILE_CONFIG', `${k.name}: ${err.message}`)
      assert.ok(!['unknown_key', 'bad_value'].includes(err.reason), `${k.name}: ${err.message}`)
      assert.ok(keys.some((o) => o.name === err.key), `${k.name}: the error names an option (${err.key})`)
      continue
    }
    if (k.kept) assert.equal(engine.config[k.name], value, k.name)
    else assert.notDeepEqual(engine.config, defaults, `${k.name} changes the config`)
  }
})

test('new Engine(engine.config) builds an engine configured alike', () => {
  const a = new Engine({ profile: 'aal2', capacity: 64, cookieName: 'sid', cookieSecure: false, cookieDomain: 'example.com' })
  const b = new Engine(a.config)
  assert.deepEqual(b.config, a.config)
  assert.equal(a.config.idleTimeoutMs, 3_600_000, 'the profile applied')
  assert.equal(a.config.cookieDomain, 'example.com')
  assert.equal(new Engine({ cookieDomain: null }).config.cookieDomain, null, 'null unsets an attribute that may be absent')
  assert.equal(new Engine({ capacity: undefined }).config.capacity, 10_000, 'undefined keeps the default')
})

test('an unknown option is refused, naming it', () => {
  for (const [options, name, hint] of [
    [{ capacty: 5 }, 'capacty', undefined],
    [{ idle_timeout_ms: 5 }, 'idle_timeout_ms', 'idleTimeoutMs'],
    [{ cookie: { sameSite: 'strict' } }, 'cookie', 'cookieSameSite'],
  ]) {
    assert.throws(() => new Engine(options), (err) => {
      assert.equal(err.code, 'SESSILE_CONFIG')
      assert.equal(err.reason, 'unknown_key')
      assert.equal(err.key, name)
      assert.ok(err.message.startsWith(name + ':'), err.message)
      if (hint !== undefined) assert.ok(err.message.includes(hint), err.message)
      return true
    })
  }
  assert.throws(() => new CookieConfig({ seed: Buffer.alloc(32) }), { code: 'SESSILE_CONFIG', reason: 'unknown_key', key: 'seed' })
})

test("the core's errors name the option as Node spells it", () => {
  const cases = [
    [{ idleTimeoutMs: 10, absoluteTimeoutMs: 5 }, 'idle_above_absolute', 'idleTimeoutMs', 'idleTimeoutMs must not exceed absoluteTimeoutMs'],
    [{ maxIdleTimeoutMs: 1000 }, 'timeout_above_max', 'idleTimeoutMs', 'idleTimeoutMs exceeds its maximum (maxIdleTimeoutMs)'],
    [{ poolBytes: 10, maxPayload: 11 }, 'payload_above_pool', 'maxPayload', undefined],
    [{ capacity: 2 ** 32 }, 'bad_value', 'capacity', 'capacity: expected a whole number from 1 to 67108864'],
    [{ cookieSecure: false }, 'cookie_host_prefix_needs_secure', 'cookieSecure', undefined],
  ]
  for (const [options, reason, key, message] of cases) {
    assert.throws(() => new Engine(options), (err) => {
      assert.equal(err.code, 'SESSILE_CONFIG')
      assert.equal(err.reason, reason)
      assert.equal(err.key, key)
      assert.ok(!/[a-z]_[a-z]/.test(err.message), `no core spelling in: ${err.message}`)
      if (message !== undefined) assert.equal(err.message, message)
      return true
    })
  }
  // A longer timeout lifts its maximum while that is the default: the core's rule.
  const fortyDays = 40 * 24 * 3_600_000
  const long = new Engine({ idleTimeoutMs: fortyDays, absoluteTimeoutMs: fortyDays }).config
  assert.equal(long.maxIdleTimeoutMs, fortyDays)
})

test('CookieConfig takes the cookie keys of an engine', () => {
  const options = { cookieName: 'app.sid', cookieSameSite: 'strict', cookiePriority: 'high' }
  const engine = new Engine(Object.assign({ clock: () => 0 }, options))
  const { token, session } = engine.create()
  const alone = new CookieConfig(options).setCookie(token, session.absoluteDeadlineMs)
  assert.equal(alone, engine.setCookie(token, session), 'the engine and CookieConfig write the same cookie')
  assert.equal(new CookieConfig(options).clearCookie(), engine.clearCookie())
})

test('options.d.ts is what configKeys() generates', () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'options-dts.js'), '--check'], { stdio: 'pipe' })
})
