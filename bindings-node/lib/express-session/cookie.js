'use strict'
// The session cookie in express-session's words: its `Cookie` class (the session's view of
// its cookie: `maxAge` in milliseconds, `expires`, the attributes) and the reading of a
// Cookie header as the `cookie` package reads it. The Set-Cookie text is the core's: each
// set of attributes becomes a core CookieConfig (checked by the core's rules when it is
// built) and the core writes every attribute, Max-Age and the clearing text. Nothing here
// writes an attribute or decides one.
const { CookieConfig } = require('../../index.js')

// What encodeURIComponent makes of the characters of a signed session ID besides its
// colon: the signature is base64, whose '+' and '/' come escaped.
function escaped(val, at) {
  const hi = val.charCodeAt(at + 1)
  const lo = val.charCodeAt(at + 2) | 0x20
  if (hi === 0x32 && lo === 0x62) return '+'
  if (hi === 0x32 && lo === 0x66) return '/'
  if (hi === 0x33 && lo === 0x64) return '='
  return undefined
}

// The usual value, a signed session ID ("s%3A" + ID + "." + signature), decoded without
// decodeURIComponent (about a tenth of sessile/express's own instructions per request:
// bench/callgrind.js); undefined for any other escape (then the general path reads it).
function signedId(val) {
  let at = val.indexOf('%', 4)
  if (at === -1) return 's:' + val.slice(4)
  let out = 's:'
  let from = 4
  do {
    const ch = escaped(val, at)
    if (ch === undefined) return undefined
    out += val.slice(from, at) + ch
    from = at + 3
    at = val.indexOf('%', from)
  } while (at !== -1)
  return out + val.slice(from)
}

function decode(val) {
  if (val.startsWith('s%3A')) {
    const id = signedId(val)
    if (id !== undefined) return id
  }
  if (val.length >= 2 && val[0] === '"' && val[val.length - 1] === '"') val = val.slice(1, -1)
  if (val.indexOf('%') !== -1) {
    try {
      val = decodeURIComponent(val)
    } catch {
      // keep the raw value, as the cookie package does
    }
  }
  return val
}

/**
 * The value of cookie `name` in a Cookie header (URI-decoded, as `cookie.parse` reads it):
 * undefined when absent, a string when it appears once, and every copy's value in header
 * order (an array) when it appears more than once. A browser sends one cookie per domain
 * and path, so a page on a sibling domain can plant a copy (cookie tossing), and it may
 * come first: the order says nothing about which copy is the user's (the core's duplicate
 * rule chooses).
 */
function read(header, name) {
  const len = header.length
  let index = 0
  let found
  while (index < len) {
    const eq = header.indexOf('=', index)
    if (eq === -1) break
    let end = header.indexOf(';', index)
    if (end === -1) end = len
    else if (eq > end) {
      index = header.lastIndexOf(';', eq - 1) + 1
      continue
    }
    if (header.slice(index, eq).trim() === name) {
      const val = decode(header.slice(eq + 1, end).trim())
      if (found === undefined) found = val
      else if (typeof found === 'string') found = [found, val]
      else found.push(val)
    }
    index = end + 1
  }
  return found
}

// express-session's spellings of a cookie's attributes (the `cookie` package's: `sameSite`
// true for Strict, any case, false or absent for none) as the core's config keys for a
// cookie (`cookieName`, ...: the options of an engine). An attribute express-session
// leaves out (no domain, no path, no priority) is not given: the core's default stands.
function coreOptions(name, c) {
  const sameSite = c.sameSite
  return {
    cookieName: name,
    cookieDomain: c.domain ? c.domain : undefined,
    cookiePath: c.path ? c.path : undefined,
    cookieSecure: Boolean(c.secure),
    cookieHttpOnly: Boolean(c.httpOnly),
    cookieSameSite: sameSite === true ? 'strict' : sameSite ? String(sameSite).toLowerCase() : 'omit',
    cookiePartitioned: Boolean(c.partitioned),
    cookiePriority: c.priority ? String(c.priority).toLowerCase() : undefined,
  }
}

// A core CookieConfig and the attributes (as a session's Cookie holds them) it was built from.
function Written(name, c) {
  this.config = new CookieConfig(coreOptions(name, c))
  this.domain = c.domain
  this.path = c.path
  this.secure = c.secure
  this.httpOnly = c.httpOnly
  this.sameSite = c.sameSite
  this.partitioned = c.partitioned
  this.priority = c.priority
}

Written.prototype.fits = function (c) {
  return (
    c.domain === this.domain &&
    c.path === this.path &&
    c.secure === this.secure &&
    c.httpOnly === this.httpOnly &&
    c.sameSite === this.sameSite &&
    c.partitioned === this.partitioned &&
    c.priority === this.priority
  )
}

// Sets of attributes remembered per cookie name beyond the configured ones (a session whose
// cookie an app changed, or one stored under other options).
const REMEMBERED = 8

/**
 * The Set-Cookie text of the cookie `name`, written by the core. `options`: the cookie
 * options of the middleware in express-session's words (`secure` may be `'auto'`). They
 * are checked now, by the core's rules: a combination browsers reject throws
 * `SESSILE_CONFIG` (reason: the rule), and so does a spelling the core does not know
 * (reason `bad_value`). Without `options`, only `setCookie` is of use.
 *
 * With `secure: 'auto'` or `sameSite: 'auto'` both forms (over HTTPS, over HTTP) are
 * built; with `secure: 'auto'`, when the core refuses the cookie without
 * Secure (SameSite=None, Partitioned, a `__Host-` or `__Secure-` name), `secureOnly` is
 * true: such a cookie is Secure whatever the request, and over plain HTTP it is not set
 * (express-session's rule for a Secure cookie there).
 */
function CookieText(name, options) {
  this.name = name
  this.written = []
  this.configured = 0
  this.secureOnly = false
  this.plain = null
  this.secure = null
  if (options === undefined) return
  // The attributes of a cookie sent over HTTPS and over plain HTTP: `secure: 'auto'` is
  // Secure over HTTPS; `sameSite: 'auto'` (express-session 1.19) is SameSite=None over
  // HTTPS (and then Secure, which browsers require of None) and Lax over HTTP.
  const auto = options.sameSite === 'auto'
  const onHttps = Object.assign({}, options)
  const onHttp = Object.assign({}, options)
  if (options.secure === 'auto') {
    onHttps.secure = true
    onHttp.secure = false
  }
  if (auto) {
    onHttps.sameSite = 'none'
    onHttps.secure = true
    onHttp.sameSite = 'lax'
  }
  this.secure = this.remember(new Cookie(onHttps))
  try {
    this.plain = this.remember(new Cookie(onHttp))
  } catch (err) {
    if (err.code !== 'SESSILE_CONFIG' || options.secure !== 'auto') throw err
    this.secureOnly = true
  }
  this.configured = this.written.length
}

CookieText.prototype.remember = function (cookie) {
  const w = new Written(this.name, cookie)
  if (this.written.length >= this.configured + REMEMBERED) this.written.splice(this.configured, 1)
  this.written.push(w)
  return w
}

/** The core's CookieConfig for a session's Cookie `c` (built on first use). */
CookieText.prototype.configFor = function (c) {
  const written = this.written
  for (let i = 0; i < written.length; i++) {
    if (written[i].fits(c)) return written[i].config
  }
  return this.remember(c).config
}

/**
 * The Set-Cookie value carrying `value` (URI-encoded, as express-session writes it) with
 * the attributes of the session's Cookie `cookie`: `Max-Age` from its `maxAge`
 * (express-session's milliseconds), none for a browser-session cookie; never more than
 * `leftMs`, when given (the time the session has left: the cookie ends with it).
 */
CookieText.prototype.setCookie = function (cookie, value, leftMs) {
  const expires = cookie.expires
  if (expires != null && !(expires instanceof Date && !isNaN(expires.valueOf()))) {
    throw new TypeError('option expires is invalid')
  }
  let maxAge = expires == null ? null : cookie.maxAge
  // Not past the session's own deadline (`leftMs`: the time it has left, when known).
  if (maxAge !== null && leftMs !== undefined && leftMs < maxAge) maxAge = leftMs
  const text = this.configFor(cookie).setCookie(encodeURIComponent(value), maxAge)
  if (text === null) throw new TypeError('argument val is invalid')
  return text
}

/**
 * Whether the core refuses cookie attributes `c` (express-session's words, `secure` as
 * given) without Secure: then `secure: 'auto'` means Secure whatever the request.
 */
CookieText.prototype.needsSecure = function (c) {
  try {
    this.configFor(new Cookie(Object.assign({}, c, { secure: false, sameSite: c.sameSite === 'auto' ? 'lax' : c.sameSite })))
    return false
  } catch (err) {
    if (err.code !== 'SESSILE_CONFIG') throw err
    return true
  }
}

/** The Set-Cookie value that deletes the cookie, with the configured attributes. */
CookieText.prototype.clearCookie = function (secure) {
  return (secure || this.plain === null ? this.secure : this.plain).config.clearCookie()
}

// The texts of Cookie#serialize, by cookie name.
const byName = new Map()

/** express-session's Cookie: the session's view of its cookie (`maxAge` in ms). */
function Cookie(options) {
  this.path = '/'
  this.maxAge = null
  this.httpOnly = true
  if (options) {
    if (typeof options !== 'object') throw new TypeError('argument options must be a object')
    for (const key in options) {
      if (key !== 'data') this[key] = options[key]
    }
  }
  if (this.originalMaxAge === undefined || this.originalMaxAge === null) {
    this.originalMaxAge = this.maxAge
  }
}

Cookie.prototype = {
  set expires(date) {
    this._expires = date
    this.originalMaxAge = this.maxAge
  },
  get expires() {
    return this._expires
  },
  set maxAge(ms) {
    if (ms && typeof ms !== 'number' && !(ms instanceof Date)) {
      throw new TypeError('maxAge must be a number or Date')
    }
    this.expires = typeof ms === 'number' ? new Date(Date.now() + ms) : ms
  },
  get maxAge() {
    return this.expires instanceof Date ? this.expires.valueOf() - Date.now() : this.expires
  },
  get data() {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this._expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    }
  },
  /** The Set-Cookie value for cookie `name` carrying `val`, written by the core. */
  serialize(name, val) {
    let text = byName.get(name)
    if (text === undefined) {
      if (byName.size >= REMEMBERED) byName.clear()
      text = new CookieText(name)
      byName.set(name, text)
    }
    return text.setCookie(this, val)
  },
  toJSON() {
    return this.data
  },
}
// What the engine store's JSON holds of a cookie (toJSON's fields), set directly.
const STORED = new Set(['originalMaxAge', 'partitioned', 'priority', 'secure', 'httpOnly', 'domain', 'path', 'sameSite'])

/**
 * The Cookie that `new Cookie(stored)` followed by express-session's inflate steps
 * (`expires` back to a Date, `originalMaxAge` restored) gives, built without running the
 * setters; `null` when `stored` has a field toJSON never writes (then take those steps).
 */
Cookie.fromStored = function (stored) {
  const c = Object.create(Cookie.prototype)
  c.path = '/'
  c._expires = null
  c.originalMaxAge = null
  c.httpOnly = true
  for (const key in stored) {
    if (STORED.has(key)) c[key] = stored[key]
    else if (key === 'expires') {
      const e = stored.expires
      c._expires = typeof e === 'string' ? new Date(e) : e
    } else return null
  }
  c.originalMaxAge = stored.originalMaxAge
  return c
}

Object.defineProperty(Cookie.prototype, 'constructor', { value: Cookie, enumerable: false, writable: true, configurable: true })

module.exports = { Cookie, CookieText, read, decode }
