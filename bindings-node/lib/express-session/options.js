'use strict'
// The options of sessile/express, read and checked in express-session 1.19's order (so an
// app that passes two bad options gets the error express-session gives first), then
// sessile's own checks. `compat: 'express-session'` is the migration setting: it puts back
// express-session's defaults where sessile's differ (bindings-node/README.md, "Moving from
// express-session").
const { resolveOptions, configKeys } = require('../../index.js')

// express-session 1.19's options, and sessile/express's own.
const KNOWN = new Set([
  'cookie',
  'genid',
  'name',
  'key',
  'store',
  'proxy',
  'resave',
  'rolling',
  'saveUninitialized',
  'secret',
  'unset',
  'compat',
  'engine',
  'engineOptions',
  'onEvent',
  'principal',
  'snapshot',
])
// What express-session's Cookie writes (cookie.serialize's options it passes on); `maxAge`
// and `expires` are its lifetime.
const COOKIE_KNOWN = new Set(['maxAge', 'expires', 'httpOnly', 'secure', 'sameSite', 'domain', 'path', 'partitioned', 'priority', 'originalMaxAge'])

const COMPAT = ['express-session']

// Unknown keys: express-session ignores them, so they are a warning, once per key, not an
// error (an app moving over keeps starting); a typo must not go unnoticed.
const warned = new Set()
function warnUnknown(where, key) {
  const id = where + '\0' + key
  if (warned.has(id)) return
  warned.add(id)
  process.emitWarning(`sessile/express: unknown ${where} '${key}' is ignored (express-session ignores it too)`, {
    type: 'SessileWarning',
    code: 'SESSILE_UNKNOWN_OPTION',
  })
}

// One meaning of "max age" in every sessile glue (bindings-node/README.md, "Max age"): how
// long a session lives from its start, the core's absolute timeout; the idle timeout stays
// the engine's, cut to the max age when that is shorter. `cookie.maxAge` (milliseconds)
// becomes those engine options when the middleware builds its engine.
let timeoutLimit = null
function maxTimeoutMs() {
  if (timeoutLimit === null) timeoutLimit = configKeys().find((k) => k.name === 'absoluteTimeoutMs').max
  return timeoutLimit
}

function warnOnce(id, message) {
  if (warned.has(id)) return
  warned.add(id)
  process.emitWarning(message, { type: 'SessileWarning', code: 'SESSILE_MAX_AGE' })
}

/**
 * The engine options of the middleware's own engine: `engineOptions` with the timeouts
 * that a static `cookie.maxAge` means. Timeouts given in `engineOptions` win (a warning
 * names the max age they override); a max age above the longest timeout the engine keeps
 * is cut to it, with a warning. With `engine` given, that engine's timeouts stand: a
 * warning says when the max age differs from its absolute timeout.
 */
function engineOptionsFor(engine, engineOptions, cookie) {
  const maxAge = cookie && typeof cookie === 'object' ? cookie.maxAge : undefined
  if (typeof maxAge !== 'number' || !(maxAge > 0)) return engineOptions
  if (engine !== undefined) {
    const absolute = engine.config.absoluteTimeoutMs
    if (absolute !== Math.ceil(maxAge)) {
      warnOnce(`engine\0${maxAge}\0${absolute}`, `sessile/express: cookie.maxAge ${maxAge} ms is not the given engine's absolute timeout (${absolute} ms): sessions end by the engine's timeouts, and the cookie's Max-Age runs to that deadline at most`)
    }
    return engineOptions
  }
  let absolute = Math.ceil(maxAge)
  if (absolute > maxTimeoutMs()) {
    warnOnce(`max\0${maxAge}`, `sessile/express: cookie.maxAge ${maxAge} ms is longer than a session may live in the engine; sessions end after ${maxTimeoutMs()} ms (about 49 days)`)
    absolute = maxTimeoutMs()
  }
  const given = Object.assign({}, engineOptions)
  if (given.absoluteTimeoutMs !== undefined || given.profile !== undefined) {
    if (given.absoluteTimeoutMs !== absolute) {
      warnOnce(`given\0${maxAge}`, `sessile/express: engineOptions set the session lifetime, so cookie.maxAge ${maxAge} ms does not; the cookie's Max-Age runs to the session's deadline at most`)
    }
    return engineOptions
  }
  given.absoluteTimeoutMs = absolute
  const idle = given.idleTimeoutMs === undefined ? resolveOptions().idleTimeoutMs : given.idleTimeoutMs
  given.idleTimeoutMs = Math.min(idle, absolute)
  return given
}

function checkCookieKeys(c) {
  if (c === null || typeof c !== 'object') return
  for (const key of Object.keys(c)) {
    if (!COOKIE_KNOWN.has(key)) warnUnknown('cookie option', key)
  }
}

function validSecret(s) {
  return (typeof s === 'string' && s.length > 0) || (Buffer.isBuffer(s) && s.length > 0)
}

// The cookie attributes sessile/express takes where express-session's options say nothing:
// the core's defaults (resolveOptions), in express-session's words. The core's `Secure` is
// express-session's `'auto'` (Secure whenever the request came over HTTPS), so that an
// express-session app served over plain HTTP keeps its sessions; its attributes that
// express-session's Cookie also defaults (HttpOnly, Path=/) are left to that Cookie.
// With `compat: 'express-session'`: none (express-session's Cookie: not Secure, no SameSite).
let sessileDefaults = null
function cookieDefaults(compat) {
  if (compat) return {}
  if (sessileDefaults === null) {
    const core = resolveOptions()
    sessileDefaults = Object.freeze({
      sameSite: core.cookieSameSite === 'omit' ? false : core.cookieSameSite,
      secure: core.cookieSecure ? 'auto' : false,
    })
  }
  return sessileDefaults
}

/**
 * The middleware's settings from `options`. Throws a TypeError as express-session does
 * (genid, unset, an empty secret array: in that order), then sessile's: `compat`, a
 * missing or bad secret (unless compat, where `req.secret` is read per request as
 * express-session does), `engine` with `engineOptions`, `onEvent`, `principal`.
 */
function parse(options) {
  const opts = options || {}
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) warnUnknown('option', key)
  }
  if (opts.genid !== undefined && typeof opts.genid !== 'function') {
    throw new TypeError('genid option must be a function')
  }
  if (opts.unset && opts.unset !== 'destroy' && opts.unset !== 'keep') {
    throw new TypeError('unset option must be "destroy" or "keep"')
  }
  const secret = opts.secret
  if (Array.isArray(secret) && secret.length === 0) {
    throw new TypeError('secret option array must contain one or more strings')
  }
  // sessile's own checks.
  if (opts.compat !== undefined && !COMPAT.includes(opts.compat)) {
    throw new TypeError(`compat option must be ${COMPAT.map((c) => `'${c}'`).join(' or ')}`)
  }
  const compat = opts.compat === 'express-session'
  let secrets = null
  if (Array.isArray(secret)) {
    if (!secret.every(validSecret)) throw new TypeError('secret option must be non-empty strings or Buffers')
    secrets = secret
  } else if (validSecret(secret)) {
    secrets = [secret]
  } else if (secret || !compat) {
    // express-session would fall back to req.secret and fail per request; a session
    // layer without a secret is a setup error here (compat: as express-session).
    throw new TypeError('secret option required for sessions (a non-empty string, Buffer or array)')
  }
  if (opts.engine !== undefined && opts.engineOptions !== undefined) {
    throw new TypeError('engineOptions cannot be used with engine: the given engine has its own options')
  }
  if ((opts.engine !== undefined || opts.engineOptions !== undefined) && opts.store !== undefined) {
    throw new TypeError('engine and engineOptions are for the default store; the given store has its own')
  }
  if (opts.onEvent !== undefined && typeof opts.onEvent !== 'function') {
    throw new TypeError('onEvent option must be a function (event => void)')
  }
  if (opts.principal !== undefined && typeof opts.principal !== 'function') {
    throw new TypeError('principal option must be a function (session => user ID or undefined)')
  }
  const cookie = opts.cookie
  if (cookie !== undefined && cookie !== null && typeof cookie !== 'object' && typeof cookie !== 'function') {
    throw new TypeError('cookie option must be an object or a function of req')
  }
  if (typeof cookie !== 'function') checkCookieKeys(cookie)
  return {
    compat,
    // A function of req (express-session 1.19) or the attributes.
    cookie: typeof cookie === 'function' ? cookie : Object.assign({}, cookieDefaults(compat), cookie),
    cookieDefaults: cookieDefaults(compat),
    genid: opts.genid,
    name: opts.name || opts.key || 'connect.sid',
    store: opts.store,
    engine: opts.engine,
    // The middleware's own engine's options, the max age applied (engineOptionsFor).
    engineOptions: opts.store === undefined ? engineOptionsFor(opts.engine, opts.engineOptions, cookie) : undefined,
    proxy: opts.proxy,
    // express-session's defaults are true (with a deprecation warning); sessile's false.
    resave: opts.resave === undefined ? compat : Boolean(opts.resave),
    rolling: Boolean(opts.rolling),
    saveUninitialized: opts.saveUninitialized === undefined ? compat : Boolean(opts.saveUninitialized),
    secrets,
    unsetDestroy: opts.unset === 'destroy',
    onEvent: opts.onEvent,
    principal: opts.principal,
    snapshot: opts.snapshot,
  }
}

module.exports = { parse, checkCookieKeys }
