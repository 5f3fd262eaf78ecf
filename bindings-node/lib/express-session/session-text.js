'use strict'
// A session's stored text without serialising or parsing its cookie on every request.
//
// The engine store keeps a session as `JSON.stringify(sess)`: the cookie first, then the
// app's data. The cookie's part is the same text from one request to the next except for
// the value of `expires`, and it was about half of the time of each JSON.stringify and
// JSON.parse. A SessionText remembers the cookie's text around `expires` for the last
// cookie fields it saw; with it, `stringify` serialises only the app's data and splices
// the cookie's text in front, and `parse` recognises that text and parses only the data.
//
// `stringify(sess)` always returns exactly `JSON.stringify(sess)`; `parse(json)` returns
// what `JSON.parse` plus `Cookie.fromStored` give, or undefined when the text is not in
// the remembered layout (then the caller takes those steps itself). Anything unusual (the
// cookie not the session's first key, a toJSON of the session's or the cookie's own, a
// field that is not a plain value) goes through JSON.stringify / JSON.parse unchanged.
const { Cookie } = require('./cookie')

const hasOwn = Object.prototype.hasOwnProperty
const cookieToJSON = Cookie.prototype.toJSON
const EXPIRES = '"expires":null'

// The cookie fields toJSON writes, but `expires`.
function fieldsOf(c) {
  return [c.originalMaxAge, c.partitioned, c.priority, c.secure, c.httpOnly, c.domain, c.path, c.sameSite]
}

function plain(v) {
  const t = typeof v
  return v === undefined || v === null || t === 'string' || t === 'boolean' || (t === 'number' && v === v)
}

// The layout of one cookie's text: '{"cookie":' + before + <expires> + after.
function Layout(c) {
  const f = fieldsOf(c)
  this.f0 = f[0]
  this.f1 = f[1]
  this.f2 = f[2]
  this.f3 = f[3]
  this.f4 = f[4]
  this.f5 = f[5]
  this.f6 = f[6]
  this.f7 = f[7]
  const data = c.data
  data.expires = null
  const text = JSON.stringify(data)
  const at = text.indexOf(EXPIRES)
  this.before = '{"cookie":' + text.slice(0, at + EXPIRES.length - 4)
  this.after = text.slice(at + EXPIRES.length)
  // The Cookie that Cookie.fromStored gives for this text with `expires` null; each parse
  // builds one like it with named stores in its key order (no loop over the fields, no
  // keyed stores) and sets `expires`. Null when fromStored gives none.
  const read = Cookie.fromStored(JSON.parse(text))
  this.cookie = read
  if (read !== null) {
    this.path = read.path
    this.originalMaxAge = read.originalMaxAge
    this.httpOnly = read.httpOnly
    this.partitioned = hasOwn.call(read, 'partitioned') ? read.partitioned : ABSENT
    this.priority = hasOwn.call(read, 'priority') ? read.priority : ABSENT
    this.secure = hasOwn.call(read, 'secure') ? read.secure : ABSENT
    this.domain = hasOwn.call(read, 'domain') ? read.domain : ABSENT
    this.sameSite = hasOwn.call(read, 'sameSite') ? read.sameSite : ABSENT
    // fromStored's order (toJSON's, after the four it sets first), checked once.
    const built = this.cookieOf(null)
    if (Object.keys(built).join() !== Object.keys(read).join()) this.cookie = null
  }
}

Layout.prototype.fits = function (c) {
  return (
    c.originalMaxAge === this.f0 &&
    c.partitioned === this.f1 &&
    c.priority === this.f2 &&
    c.secure === this.f3 &&
    c.httpOnly === this.f4 &&
    c.domain === this.f5 &&
    c.path === this.f6 &&
    c.sameSite === this.f7
  )
}

// Marks a field the cookie's text does not hold.
const ABSENT = Symbol('absent')

// The Cookie of a text in this layout whose `expires` is `expires` (a string or null).
Layout.prototype.cookieOf = function (expires) {
  const c = Object.create(Cookie.prototype)
  c.path = this.path
  c._expires = expires === null ? null : new Date(expires)
  c.originalMaxAge = this.originalMaxAge
  c.httpOnly = this.httpOnly
  if (this.partitioned !== ABSENT) c.partitioned = this.partitioned
  if (this.priority !== ABSENT) c.priority = this.priority
  if (this.secure !== ABSENT) c.secure = this.secure
  if (this.domain !== ABSENT) c.domain = this.domain
  if (this.sameSite !== ABSENT) c.sameSite = this.sameSite
  return c
}

function SessionText() {
  this.layout = null
}

// A cookie written by Cookie's own toJSON (its fields and `expires` are checked in
// stringify).
function spliceable(c) {
  return (
    typeof c === 'object' &&
    c !== null &&
    c.toJSON === cookieToJSON &&
    !hasOwn.call(c, 'data')
  )
}

/** `JSON.stringify(sess)`, the cookie's part from the remembered layout. */
SessionText.prototype.stringify = function (sess) {
  if (typeof sess !== 'object' || sess === null) return JSON.stringify(sess)
  const c = sess.cookie
  if (!spliceable(c) || typeof sess.toJSON === 'function') return JSON.stringify(sess)
  const e = c._expires
  const exp = e === null ? 'null' : JSON.stringify(e)
  if (exp === undefined) return JSON.stringify(sess)
  let layout = this.layout
  if (layout === null || !layout.fits(c)) {
    if (!fieldsOf(c).every(plain)) return JSON.stringify(sess)
    layout = this.layout = new Layout(c)
  }
  let first
  for (first in sess) break
  if (first !== 'cookie') return JSON.stringify(sess)
  let rest
  try {
    sess.cookie = undefined
  } catch {
    return JSON.stringify(sess)
  }
  try {
    if (sess.cookie !== undefined) return JSON.stringify(sess)
    rest = JSON.stringify(sess)
  } finally {
    sess.cookie = c
  }
  return layout.before + exp + layout.after + (rest.length === 2 ? '}' : ',' + rest.slice(1))
}

/**
 * `[data, cookie]` for a text in the remembered layout: `data` what JSON.parse gives for
 * everything but the cookie, `cookie` the Cookie that Cookie.fromStored gives for it.
 * Undefined for any other text.
 */
SessionText.prototype.parse = function (json) {
  const layout = this.layout
  if (layout === null || !json.startsWith(layout.before)) return undefined
  let at = layout.before.length
  let expires = null
  if (json.startsWith('null', at)) {
    at += 4
  } else {
    if (json.charCodeAt(at) !== 34) return undefined
    const end = json.indexOf('"', at + 1)
    if (end === -1) return undefined
    expires = json.slice(at + 1, end)
    // An escape would need JSON.parse to read.
    if (expires.indexOf('\\') !== -1) return undefined
    at = end + 1
  }
  if (!json.startsWith(layout.after, at)) return undefined
  at += layout.after.length
  let data
  if (at === json.length - 1 && json.charCodeAt(at) === 125) {
    data = {}
  } else {
    if (json.charCodeAt(at) !== 44) return undefined
    try {
      data = JSON.parse('{' + json.slice(at + 1))
    } catch {
      return undefined
    }
    // A second "cookie" key would replace the first in JSON.parse.
    if (hasOwn.call(data, 'cookie')) return undefined
  }
  return layout.cookie === null ? undefined : [data, layout.cookieOf(expires)]
}

module.exports = { SessionText }
