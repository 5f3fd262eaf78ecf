'use strict'
// The session cookie: express-session's `Cookie` class, its cookie serialisation (the
// `cookie` package's, byte for byte). The HMAC signature is native (Signer in index.js).

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const VALUE = /^("?)[\u0021\u0023-\u002B\u002D-\u003A\u003C-\u005B\u005D-\u007E]*\1$/
const DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i
const PATH = /^[\u0020-\u003A\u003D-\u007E]*$/

function serialize(name, val, opt) {
  if (!NAME.test(name)) throw new TypeError('argument name is invalid')
  const value = encodeURIComponent(val)
  if (!VALUE.test(value)) throw new TypeError('argument val is invalid')
  let str = name + '=' + value
  if (opt.maxAge != null) {
    const maxAge = Math.floor(opt.maxAge)
    if (!isFinite(maxAge)) throw new TypeError('option maxAge is invalid')
    str += '; Max-Age=' + maxAge
  }
  if (opt.domain) {
    if (!DOMAIN.test(opt.domain)) throw new TypeError('option domain is invalid')
    str += '; Domain=' + opt.domain
  }
  if (opt.path) {
    if (!PATH.test(opt.path)) throw new TypeError('option path is invalid')
    str += '; Path=' + opt.path
  }
  if (opt.expires) {
    const e = opt.expires
    if (!(e instanceof Date) || isNaN(e.valueOf())) throw new TypeError('option expires is invalid')
    str += '; Expires=' + e.toUTCString()
  }
  if (opt.httpOnly) str += '; HttpOnly'
  if (opt.secure) str += '; Secure'
  if (opt.partitioned) str += '; Partitioned'
  if (opt.priority) {
    const p = typeof opt.priority === 'string' ? opt.priority.toLowerCase() : opt.priority
    if (p === 'low') str += '; Priority=Low'
    else if (p === 'medium') str += '; Priority=Medium'
    else if (p === 'high') str += '; Priority=High'
    else throw new TypeError('option priority is invalid')
  }
  if (opt.sameSite) {
    const s = typeof opt.sameSite === 'string' ? opt.sameSite.toLowerCase() : opt.sameSite
    if (s === true || s === 'strict') str += '; SameSite=Strict'
    else if (s === 'lax') str += '; SameSite=Lax'
    else if (s === 'none') str += '; SameSite=None'
    else throw new TypeError('option sameSite is invalid')
  }
  return str
}

function decode(val) {
  // The usual value, a signed session ID: only its colon is encoded.
  if (val.startsWith('s%3A') && val.indexOf('%', 4) === -1) return 's:' + val.slice(4)
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
 * come first: the order says nothing about which copy is the user's.
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
  serialize(name, val) {
    return serialize(name, val, this.data)
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

module.exports = { Cookie, serialize, read }
