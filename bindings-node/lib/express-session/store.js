'use strict'
// express-session's Session, Store and MemoryStore, with the same semantics, so apps and
// third-party stores written against express-session keep working.
const { EventEmitter } = require('node:events')
const util = require('node:util')
const { Cookie } = require('./cookie')

function defineMethod(obj, name, fn) {
  Object.defineProperty(obj, name, { configurable: true, enumerable: false, value: fn, writable: true })
}

/**
 * `req.session`. Data are its own enumerable properties; `id` follows `req.sessionID`
 * when the ID is issued lazily by the engine.
 */
function Session(req, data) {
  Object.defineProperty(this, 'req', { value: req })
  // A lazily issued ID is read through the prototype's `id` getter (no per-session
  // accessor: defining one per request is slow).
  if (!req[Session.lazyId]) Object.defineProperty(this, 'id', { value: req.sessionID })
  if (typeof data === 'object' && data !== null) {
    for (const prop in data) {
      if (!(prop in this)) this[prop] = data[prop]
    }
  }
}
Session.lazyId = Symbol('sessile.lazyId')
Object.defineProperty(Session.prototype, 'id', {
  configurable: true,
  enumerable: false,
  get() {
    return this.req.sessionID
  },
})

defineMethod(Session.prototype, 'touch', function touch() {
  return this.resetMaxAge()
})
defineMethod(Session.prototype, 'resetMaxAge', function resetMaxAge() {
  this.cookie.maxAge = this.cookie.originalMaxAge
  return this
})
defineMethod(Session.prototype, 'save', function save(fn) {
  this.req.sessionStore.set(this.id, this, fn || function () {})
  return this
})
defineMethod(Session.prototype, 'reload', function reload(fn) {
  const req = this.req
  const store = this.req.sessionStore
  store.get(this.id, function (err, sess) {
    if (err) return fn(err)
    if (!sess) return fn(new Error('failed to load session'))
    store.createSession(req, sess)
    fn()
  })
  return this
})
defineMethod(Session.prototype, 'destroy', function destroy(fn) {
  delete this.req.session
  this.req.sessionStore.destroy(this.id, fn)
  return this
})
defineMethod(Session.prototype, 'regenerate', function regenerate(fn) {
  this.req.sessionStore.regenerate(this.req, fn)
  return this
})

/** Abstract store: an EventEmitter that old-style subclasses can `Store.call(this)`. */
function Store() {
  EventEmitter.call(this)
}
util.inherits(Store, EventEmitter)

Store.prototype.regenerate = function (req, fn) {
  const self = this
  this.destroy(req.sessionID, function (err) {
    self.generate(req)
    fn(err)
  })
}

Store.prototype.load = function (sid, fn) {
  const self = this
  this.get(sid, function (err, sess) {
    if (err) return fn(err)
    if (!sess) return fn()
    const req = { sessionID: sid, sessionStore: self }
    fn(null, self.createSession(req, sess))
  })
}

Store.prototype.createSession = function (req, sess) {
  const expires = sess.cookie.expires
  const originalMaxAge = sess.cookie.originalMaxAge
  sess.cookie = new Cookie(sess.cookie)
  if (typeof expires === 'string') sess.cookie.expires = new Date(expires)
  sess.cookie.originalMaxAge = originalMaxAge
  req.session = new Session(req, sess)
  return req.session
}

const defer = typeof setImmediate === 'function' ? setImmediate : (fn, ...args) => process.nextTick(fn.bind(null, ...args))

/** express-session's unbounded in-memory store (kept for compatibility; not the default). */
function MemoryStore() {
  Store.call(this)
  this.sessions = Object.create(null)
}
util.inherits(MemoryStore, Store)

function getSession(store, sessionId) {
  let sess = store.sessions[sessionId]
  if (!sess) return undefined
  sess = JSON.parse(sess)
  if (sess.cookie) {
    const expires = typeof sess.cookie.expires === 'string' ? new Date(sess.cookie.expires) : sess.cookie.expires
    if (expires && expires <= Date.now()) {
      delete store.sessions[sessionId]
      return undefined
    }
  }
  return sess
}

MemoryStore.prototype.all = function all(callback) {
  const out = Object.create(null)
  for (const id of Object.keys(this.sessions)) {
    const s = getSession(this, id)
    if (s) out[id] = s
  }
  callback && defer(callback, null, out)
}
MemoryStore.prototype.clear = function clear(callback) {
  this.sessions = Object.create(null)
  callback && defer(callback)
}
MemoryStore.prototype.destroy = function destroy(sessionId, callback) {
  delete this.sessions[sessionId]
  callback && defer(callback)
}
MemoryStore.prototype.get = function get(sessionId, callback) {
  defer(callback, null, getSession(this, sessionId))
}
MemoryStore.prototype.set = function set(sessionId, session, callback) {
  this.sessions[sessionId] = JSON.stringify(session)
  callback && defer(callback)
}
MemoryStore.prototype.length = function length(callback) {
  this.all(function (err, sessions) {
    if (err) return callback(err)
    callback(null, Object.keys(sessions).length)
  })
}
MemoryStore.prototype.touch = function touch(sessionId, session, callback) {
  const current = getSession(this, sessionId)
  if (current) {
    current.cookie = session.cookie
    this.sessions[sessionId] = JSON.stringify(current)
  }
  callback && defer(callback)
}

module.exports = { Session, Store, MemoryStore }
