'use strict'
// The shared conformance vectors (tests/vectors/*.json, format in its README.md), run
// through the Node API. Unknown keys fail, so a typo in a vector cannot pass silently.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const sessile = require('..')

const dir = path.join(__dirname, '..', '..', 'tests', 'vectors')
const load = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))
const HANDLED = ['config.json', 'cookies.json', 'script.json', 'tokens.json']

function onlyKeys(obj, allowed, where) {
  for (const k of Object.keys(obj)) assert.ok(allowed.includes(k), `${where}: unknown key ${k}`)
}

/** The bytes of field `base` (`base`, `base_repeat`, `base_hex`), or undefined. */
function bytes(obj, base) {
  if (obj[base + '_hex'] !== undefined) return Buffer.from(obj[base + '_hex'], 'hex')
  if (obj[base] === undefined || obj[base] === null) return undefined
  return Buffer.from(obj[base].repeat(obj[base + '_repeat'] ?? 1), 'utf8')
}

/** Text input for an API taking `string | Buffer`: text when it is UTF-8, else bytes. */
function input(obj, base) {
  const b = bytes(obj, base)
  if (b === undefined) return undefined
  return obj[base + '_hex'] !== undefined ? b : b.toString('utf8')
}

const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/**
 * A vector's config object (the core's vocabulary) as options of `new Engine` and
 * `CookieConfig`: each key camelCased, each value as it is. No table of names or
 * spellings: the binding reads them off the core.
 */
function options(config, extra) {
  const o = {}
  for (const [k, v] of Object.entries(config || {})) o[camel(k)] = v
  return Object.assign(o, extra)
}

/** The vector spelling of a thrown error: the core code (the Invalid code for sessions). */
function codeOf(err) {
  assert.ok(err && typeof err.code === 'string' && err.code.startsWith('SESSILE_'), `not a sessile error: ${err}`)
  if (err.code === 'SESSILE_SESSION_INVALID' || err.code === 'SESSILE_CONFIG' || err.code === 'SESSILE_COOKIE') return err.reason
  return err.code.slice('SESSILE_'.length).toLowerCase()
}

test('every vector file is run', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual(files, HANDLED)
})

test('cookies.json', () => {
  const v = load('cookies.json')
  onlyKeys(v, ['description', 'set_cookie', 'clear_cookie', 'parse'], 'cookies.json')
  for (const c of v.set_cookie) {
    onlyKeys(c, ['name', 'config', 'value', 'value_repeat', 'max_age_s', 'expect'], c.name)
    let got
    try {
      got = sessile.formatSetCookie(options(c.config), input(c, 'value'), c.max_age_s)
    } catch (err) {
      assert.equal(err.code, 'SESSILE_CONFIG', c.name)
      got = null
    }
    assert.equal(got, c.expect, c.name)
  }
  for (const c of v.clear_cookie) {
    onlyKeys(c, ['name', 'config', 'expect'], c.name)
    let got
    try {
      got = sessile.formatClearCookie(options(c.config))
    } catch (err) {
      assert.equal(err.code, 'SESSILE_CONFIG', c.name)
      got = null
    }
    assert.equal(got, c.expect, c.name)
  }
  for (const c of v.parse) {
    onlyKeys(c, ['name', 'cookie_name', 'header', 'header_repeat', 'header_hex', 'expect'], c.name)
    let got
    try {
      got = { value: sessile.parseCookie(bytes(c, 'header'), c.cookie_name) }
    } catch (err) {
      assert.equal(err.code, 'SESSILE_COOKIE', c.name)
      got = { error: err.reason }
    }
    assert.deepEqual(got, c.expect, c.name)
  }
})

test('tokens.json', () => {
  const v = load('tokens.json')
  onlyKeys(v, ['description', 'engines'], 'tokens.json')
  for (const e of v.engines) {
    onlyKeys(e, ['name', 'seed_hex', 'config', 'issued', 'cases'], e.name)
    const clock = { t: 0 }
    const engine = new sessile.Engine(options(e.config, { seed: Buffer.from(e.seed_hex, 'hex'), clock: () => clock.t }))
    const issued = e.issued.map(() => engine.create().token)
    assert.deepEqual(issued, e.issued, e.name)
    clock.t = 1
    for (const c of e.cases) {
      onlyKeys(c, ['name', 'token', 'token_repeat', 'token_hex', 'expect'], c.name)
      assert.throws(() => engine.validate(input(c, 'token')), (err) => codeOf(err) === c.expect, `${e.name}: ${c.name}`)
    }
    clock.t = 2
    for (const t of issued) engine.validate(t)
  }
})

test('config.json', () => {
  const v = load('config.json')
  onlyKeys(v, ['description', 'defaults', 'profiles', 'cases'], 'config.json')
  // Every value the engine keeps, and only those, under the option's name.
  assert.deepEqual(sessile.resolveOptions(), options(v.defaults))
  assert.deepEqual(new sessile.Engine().config, options(v.defaults))
  for (const [name, p] of Object.entries(v.profiles)) {
    const got = sessile.resolveOptions({ profile: name })
    for (const [k, want] of Object.entries(p)) assert.equal(got[camel(k)], want, `${name}: ${k}`)
  }
  for (const c of v.cases) {
    onlyKeys(c, ['name', 'config', 'error'], c.name)
    const opts = options(c.config)
    if (c.error === null) {
      assert.ok(new sessile.Engine(opts), c.name)
    } else {
      assert.throws(() => new sessile.Engine(opts), (err) => err.code === 'SESSILE_CONFIG' && err.reason === c.error, c.name)
    }
  }
})

test('script.json', async (t) => {
  const v = load('script.json')
  onlyKeys(v, ['description', 'seed_hex', 'base_config', 'scripts'], 'script.json')
  for (const script of v.scripts) {
    await t.test(script.name, () => runScript(v, script))
  }
})

const STEP_KEYS = {
  create: ['now', 'client', 'as', 'fields'],
  validate: ['token', 'token_raw', 'token_raw_repeat', 'token_raw_hex', 'now', 'client', 'fields'],
  validate_cookie: ['cookies', 'now', 'client', 'chosen', 'fields'],
  peek: ['token', 'token_raw', 'token_raw_repeat', 'token_raw_hex', 'now', 'fields'],
  login: ['token', 'token_raw', 'token_raw_repeat', 'token_raw_hex', 'principal', 'principal_repeat', 'principal_hex', 'now', 'as', 'fields'],
  rotate: ['token', 'token_raw', 'token_raw_repeat', 'token_raw_hex', 'now', 'as', 'fields'],
  logout: ['token', 'token_raw', 'token_raw_repeat', 'token_raw_hex', 'now'],
  revoke: ['session', 'now'],
  revoke_principal: ['principal', 'principal_repeat', 'principal_hex', 'now', 'count'],
  revoke_all: ['now', 'count'],
  sessions_of: ['principal', 'principal_repeat', 'principal_hex', 'sessions'],
  write: ['session', 'data', 'data_repeat', 'data_hex', 'now'],
  read: ['session', 'expect_data', 'expect_data_repeat', 'expect_data_hex'],
  set_timeouts: ['session', 'idle_ms', 'absolute_ms', 'now', 'fields'],
  sweep: ['now', 'count'],
  stats: ['stats'],
  events: ['events'],
}

const FIELDS = {
  principal: 'principal',
  created_ms: 'createdMs',
  last_seen_ms: 'lastSeenMs',
  idle_deadline_ms: 'idleDeadlineMs',
  absolute_deadline_ms: 'absoluteDeadlineMs',
  idle_timeout_ms: 'idleTimeoutMs',
  absolute_timeout_ms: 'absoluteTimeoutMs',
  payload_len: 'payloadLength',
}

function runScript(file, script) {
  onlyKeys(script, ['name', 'description', 'config', 'seed_hex', 'steps'], script.name)
  const clock = { t: 0 }
  const config = Object.assign({}, file.base_config, script.config)
  const engine = new sessile.Engine(
    options(config, { seed: Buffer.from(script.seed_hex || file.seed_hex, 'hex'), clock: () => clock.t }),
  )
  const names = new Map() // name -> { token, handle, tag }
  script.steps.forEach((step, i) => {
    const where = `${script.name} step ${i} (${step.op})`
    assert.ok(STEP_KEYS[step.op], `${where}: unknown op`)
    onlyKeys(step, ['op', 'expect'].concat(STEP_KEYS[step.op]), where)
    clock.t = step.now ?? 0
    const token = () => (step.token !== undefined ? names.get(step.token).token : input(step, 'token_raw'))
    const handle = () => names.get(step.session).handle
    // `NAME=<token>; NAME=<token>` with the engine's cookie name, one pair per entry of
    // `cookies` (a bound name, or {"raw": "..."} taken as it is).
    const cookieHeader = () =>
      step.cookies
        .map((c) => {
          if (typeof c === 'string') return `${engine.cookieName}=${names.get(c).token}`
          onlyKeys(c, ['raw'], where)
          return `${engine.cookieName}=${c.raw}`
        })
        .join('; ')
    const client = step.client && { ip: step.client.ip, userAgent: step.client.user_agent }
    const expect = step.expect ?? 'ok'
    let result
    try {
      switch (step.op) {
        case 'create': result = engine.create(client); break
        case 'validate': result = engine.validate(token(), client); break
        case 'validate_cookie': result = engine.validateCookie(cookieHeader(), client); break
        case 'peek': result = engine.peek(token()); break
        case 'login': result = engine.login(token(), input(step, 'principal')); break
        case 'rotate': result = engine.rotate(token()); break
        case 'logout': engine.logout(token()); break
        case 'revoke': engine.revoke(handle()); break
        case 'revoke_principal': result = engine.revokePrincipal(input(step, 'principal')); break
        case 'revoke_all': result = engine.revokeAll(); break
        case 'sessions_of': result = engine.sessionsOf(input(step, 'principal')); break
        case 'write': engine.write(handle(), bytes(step, 'data') ?? Buffer.alloc(0)); break
        case 'read': result = engine.read(handle()); break
        case 'set_timeouts': result = engine.setTimeouts(handle(), step.idle_ms, step.absolute_ms); break
        case 'sweep': result = engine.sweep(); break
        case 'stats': result = engine.stats(); break
        case 'events': result = engine.drainEvents(); break
      }
    } catch (err) {
      assert.equal(codeOf(err), expect, `${where}: ${err.message}`)
      return
    }
    if (step.op === 'validate_cookie') {
      // null: the header does not carry the cookie
      assert.equal(result === null ? 'none' : 'ok', expect, `${where}: outcome`)
      if (result === null) return
      assert.ok(step.chosen !== undefined, `${where}: chosen`)
      assert.equal(result.token, names.get(step.chosen).token, `${where}: chosen`)
    }
    assert.equal(expect, 'ok', `${where}: succeeded, expected ${expect}`)
    const snapshot = result && (result.session || result)
    if (step.as !== undefined) {
      names.set(step.as, { token: result.token, handle: result.session.handle, tag: result.session.tag })
    }
    if (step.fields) {
      for (const [k, want] of Object.entries(step.fields)) {
        assert.ok(FIELDS[k], `${where}: unknown field ${k}`)
        assert.equal(snapshot[FIELDS[k]] ?? null, want, `${where}: ${k}`)
      }
    }
    if (step.count !== undefined) assert.equal(result, step.count, `${where}: count`)
    if (step.op === 'read') assert.deepEqual(result, bytes(step, 'expect_data') ?? Buffer.alloc(0), where)
    if (step.op === 'sessions_of') {
      const tagName = (tag) => [...names.entries()].filter(([, s]) => s.tag === tag).map(([n]) => n)
      assert.equal(result.length, step.sessions.length, `${where}: how many`)
      result.forEach((s, j) => assert.ok(tagName(s.tag).includes(step.sessions[j]), `${where}: session ${j}`))
    }
    if (step.op === 'stats') {
      for (const [k, want] of Object.entries(step.stats)) {
        assert.ok(camel(k) in result, `${where}: unknown stat ${k}`)
        assert.equal(result[camel(k)], want, `${where}: ${k}`)
      }
    }
    if (step.op === 'events') {
      assert.equal(result.length, step.events.length, `${where}: ${JSON.stringify(result.map((e) => e.kind))}`)
      step.events.forEach((want, j) => {
        onlyKeys(want, ['kind', 'session', 'at_ms'], where)
        const got = result[j]
        assert.equal(got.kind, want.kind, `${where}: event ${j}`)
        const tag = want.session === null ? '0000000000000000' : names.get(want.session).tag
        assert.equal(got.session, tag, `${where}: event ${j} session`)
        if (want.at_ms !== undefined) assert.equal(got.atMs, want.at_ms, `${where}: event ${j} at_ms`)
      })
    }
  })
}
