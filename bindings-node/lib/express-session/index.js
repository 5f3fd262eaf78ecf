'use strict'
// `require('sessile/express')`: a drop-in replacement for `require('express-session')`.
// The middleware follows express-session 1.18's logic step by step (same options, same
// req.session API, same signed cookie); the default store is the sessile engine.
// Which rules here are express-session's and which the core's: README.md in this folder.
// Differences from express-session: bindings-node/README.md ("Secure defaults").
const { Cookie, CookieText, read } = require('./cookie')
const { Signer } = require('../../index.js')
const { Session, Store, MemoryStore } = require('./store')
const { EngineStore, SessileStore, isStoreError, forHttp, passportUser } = require('./engine-store')
const { parse: parseOptions, checkCookieKeys } = require('./options')
const { snapshotOnShutdown } = require('./shutdown')

const PENDING = '\0sessile-pending'
// The cookie options a `cookie` function gave for a request.
const RESOLVED = Symbol('sessile.cookieOptions')
// The request's state (Ctx), for sessions that regenerate() makes (engine store).
const CTX = Symbol('sessile.ctx')

function defineMethod(obj, name, fn) {
  Object.defineProperty(obj, name, { configurable: true, enumerable: false, value: fn, writable: true })
}

function issecure(req, trustProxy) {
  if (req.connection && req.connection.encrypted) return true
  if (trustProxy === false) return false
  if (trustProxy !== true) return req.secure === true
  let header = req.headers['x-forwarded-proto'] || ''
  const index = header.indexOf(',')
  const proto = index !== -1 ? header.substr(0, index).toLowerCase().trim() : header.toLowerCase().trim()
  return proto === 'https'
}

// Express sets the prototype of every req and res (setPrototypeOf, in its init
// middleware). V8 then gives each of them a hidden class of its own: every property added
// to it builds a new one (costly: the README's performance notes) and every access
// misses the inline caches. Deleting one own property turns the object into a dictionary
// ("slow mode") once, after which additions are hash inserts and accesses hit a shared
// map: cheaper as soon as two properties are added, and the rest of the app's handling of
// the request gets faster too. The property deleted is one Express itself assigns (req.res,
// res.req: plain data properties), put back at once; only its place in Object.keys order
// changes.
const hasOwn = Object.prototype.hasOwnProperty
function toDictionary(obj, key) {
  if (!hasOwn.call(obj, key)) return
  const value = obj[key]
  if (Reflect.deleteProperty(obj, key)) obj[key] = value
}

function fingerprint(sess) {
  return JSON.stringify(sess, function (key, val) {
    if (this === sess && key === 'cookie') return undefined
    return val
  })
}

// The fingerprint inflate() takes of the loaded data, computed from its text on demand.
function fingerprintOfJson(json) {
  return fingerprint(JSON.parse(json))
}

// Stands for "the original hash" in savedHash until that hash is computed.
const ORIGINAL = Symbol('sessile.originalHash')
// The per-request methods of a session inflated from the engine store, read by the
// methods of the middleware's Session subclass (no per-request defineProperty).
const HOOKS = Symbol('sessile.hooks')

// The ID of a signed cookie value ("s:" + ID + "." + signature) when the signature verifies.
function unsigned(raw, signer) {
  if (typeof raw !== 'string' || raw.slice(0, 2) !== 's:') return undefined
  return signer.unsign(raw.slice(2)) ?? undefined
}

// express-session's back-compat reads of cookie-parser's req.signedCookies / req.cookies,
// for a request whose Cookie header does not name the session cookie (an app that took
// the header away). When the header names it, the middleware's own reading stands:
// cookie-parser lets the first of several copies win, and a sibling domain can plant one
// that is sent first.
function fromParsers(req, name, signer) {
  let val
  if (req.signedCookies) val = req.signedCookies[name]
  if (!val && req.cookies) val = unsigned(req.cookies[name], signer)
  return val || undefined
}

// The session ID in the request's cookie, when its signature verifies (express-session's
// getcookie), for a store other than the engine's.
function getcookie(req, name, signer) {
  const header = req.headers.cookie
  const copies = header ? read(header, name) : undefined
  if (copies === undefined) return fromParsers(req, name, signer)
  if (typeof copies === 'string') return unsigned(copies, signer)
  // Sent several times. A copy whose signature fails is not this app's and is passed
  // over. Which of several validly signed IDs names a live session only the store could
  // say (the engine store lets the core choose: EngineStore#loadCopies); another store
  // is not asked, so two different ones count as none.
  let val
  for (const copy of copies) {
    const id = unsigned(copy, signer)
    if (id === undefined || id === val) continue
    if (val !== undefined) return undefined
    val = id
  }
  return val
}

// What the middleware answers itself: a shared store that cannot answer (503, never the
// app's answer served without its session, never a 500 with a trace), and an update of
// the session lost to a concurrent request (409: the client retries).
const STORE_UNAVAILABLE = 'session store unavailable: try again\n'
const SESSION_CONFLICT = 'session changed by another request: try again\n'

function appendHeader(res, data) {
  const prev = res.getHeader('Set-Cookie') || []
  res.setHeader('Set-Cookie', Array.isArray(prev) ? prev.concat(data) : [prev, data])
}

function session(options) {
  // Checked in express-session's order, then sessile's checks (options.js).
  const o = parseOptions(options)
  // The cookie's attributes, or express-session 1.19's function of req giving them.
  const cookieOptions = o.cookie
  const cookieFn = typeof cookieOptions === 'function' ? cookieOptions : null
  const generateId = o.genid
  // express-session's name for the cookie.
  const name = o.name
  // The cookie's Set-Cookie and clearing text, written by the core; its options are
  // checked now, by the core's rules (a function's, per request when first seen).
  const cookieText = new CookieText(name, cookieFn ? o.cookieDefaults : cookieOptions)
  const store = o.store || new EngineStore(o.engine ? { engine: o.engine } : o.engineOptions)
  // Restarts of a single process keep their sessions: written at SIGTERM / SIGINT,
  // restored now (see shutdown.js).
  if (o.snapshot !== undefined) {
    if (store.issuesIds !== true) throw new TypeError('snapshot needs the sessile engine store')
    snapshotOnShutdown(store.engine, o.snapshot)
  }
  const trustProxy = o.proxy
  const resaveSession = o.resave
  const rollingSessions = o.rolling
  const saveUninitializedSession = o.saveUninitialized
  const engineIds = store.issuesIds === true
  // The secret's signer and the engine store's per-request native calls bound to it; with
  // no secret option (compat only), those of each request's `req.secret`.
  const keyed = o.secrets === null ? null : keyFor(o.secrets)
  const bySecret = new Map()
  function keyFor(secrets) {
    const signer = new Signer(secrets)
    return { signer, link: engineIds ? store.link(signer) : null }
  }
  function keyOf(req) {
    if (keyed !== null) return keyed
    const secret = req.secret
    if (typeof secret !== 'string' || secret === '') return null
    let k = bySecret.get(secret)
    if (k === undefined) {
      if (bySecret.size >= 8) bySecret.clear()
      k = keyFor([secret])
      bySecret.set(secret, k)
    }
    return k
  }
  // A session's stored text (the engine store remembers its cookie's part).
  const text = engineIds && store.text ? store.text : JSON
  // Who a saved session's user is (default: Passport's `passport.user`), bound in the
  // engine at save (see Ctx#syncPrincipal).
  const principalOf = o.principal || passportUser
  // Security events: to `onEvent` and to the engine's listeners after each request.
  const engine = engineIds ? store.engine : null
  const onEvent = o.onEvent
  if (onEvent !== undefined && engine === null) {
    throw new TypeError('onEvent option needs the sessile engine store (events are the engine\'s)')
  }
  if (onEvent !== undefined) engine.on('event', onEvent)

  if (generateId !== undefined && engineIds) {
    throw new TypeError('genid cannot be used with the sessile engine store: the engine issues session IDs')
  }
  const unsetDestroy = o.unsetDestroy
  const idOf = generateId || defaultId

  // A session whose ID was never issued has nothing to end: regenerate() (Passport's login
  // and logout call it) would otherwise issue an engine session only to log it out.
  if (engineIds) {
    store.regenerate = function (req, fn) {
      const lazy = req[Session.lazyId]
      if (lazy === undefined || lazy() !== null) return Store.prototype.regenerate.call(this, req, fn)
      process.nextTick(() => {
        store.generate(req)
        fn()
      })
    }
  }

  store.generate = function (req) {
    if (engineIds) {
      let token = null
      Object.defineProperty(req, 'sessionID', {
        configurable: true,
        enumerable: true,
        get() {
          if (token === null) {
            try {
              token = store.issue(req)
            } catch (err) {
              throw forHttp(err)
            }
          }
          return token
        },
        set(v) {
          token = v
        },
      })
      req[Session.lazyId] = () => token
    } else {
      req.sessionID = idOf(req)
    }
    req.session = new Session(req)
    req.session.cookie = cookieOf(req)
    // A session made by regenerate() (Passport's login and logout) gets the request's
    // methods too, so its save binds the user (engine store).
    const ctx = req[CTX]
    if (ctx !== undefined) {
      // A new session (regenerate() ended the old one): no user bound.
      ctx.userId = null
      ctx.wrapmethods(req.session)
    }
  }

  // The cookie options of `req` (express-session 1.19: `cookie` may be a function of req,
  // called once per request here; sessile's defaults under what it gives).
  function cookieOptionsOf(req) {
    if (cookieFn === null) return cookieOptions
    let c = req[RESOLVED]
    if (c === undefined) {
      const given = cookieFn(req)
      checkCookieKeys(given)
      c = Object.assign({}, o.cookieDefaults, given)
      Object.defineProperty(req, RESOLVED, { configurable: true, value: c })
    }
    return c
  }

  // A new session's Cookie for `req`: `secure: 'auto'` and `sameSite: 'auto'` resolved by
  // whether the request came over HTTPS (through `proxy` / `trust proxy`).
  function cookieOf(req) {
    const c = cookieOptionsOf(req)
    const cookie = new Cookie(c)
    if (c.secure === 'auto' || c.sameSite === 'auto') {
      const isSecure = issecure(req, trustProxy)
      if (c.secure === 'auto') {
        cookie.secure = isSecure || (cookieFn === null ? cookieText.secureOnly : cookieText.needsSecure(c))
      }
      if (c.sameSite === 'auto') {
        // SameSite=None needs Secure (browsers drop it otherwise); the request is HTTPS.
        cookie.sameSite = isSecure ? 'none' : 'lax'
        if (isSecure) cookie.secure = true
      }
    }
    return cookie
  }

  // Sessions inflated from the engine store: the methods that wrapmethods() would define
  // on each one live on this prototype and call the request's state. Nothing is added to
  // `req` for it beyond express-session's own properties (and the symbol-keyed CTX): the
  // request's state is a symbol-keyed property of the session (JSON.stringify, for...in
  // and Object.keys skip it), and `req` and `id` are prototype getters. No defineProperty
  // per request.
  function EngineSession(ctx, data, cookie) {
    this[HOOKS] = ctx
    if (cookie !== undefined) this.cookie = cookie
    for (const prop in data) {
      // `userId` stored by the app is its data (the setter below keeps it as such).
      if (!(prop in this) || prop === 'userId') this[prop] = data[prop]
    }
  }
  EngineSession.prototype = Object.create(Session.prototype)
  defineMethod(EngineSession.prototype, 'constructor', Session)
  Object.defineProperty(EngineSession.prototype, 'req', {
    configurable: true,
    enumerable: false,
    get() {
      return this[HOOKS].req
    },
  })
  defineMethod(EngineSession.prototype, 'reload', function reload(callback) {
    const ctx = this[HOOKS]
    ctx.storedJson = undefined
    // Saves after a reload go by the token (what was loaded is no longer the base).
    ctx.epoch = undefined
    // The reloaded session (a plain Session) reads its ID from req.sessionID.
    if (!ctx.req[Session.lazyId]) ctx.req[Session.lazyId] = () => ctx.req.sessionID
    Session.prototype.reload.call(this, ctx.rewrapmethods(this, callback))
  })
  defineMethod(EngineSession.prototype, 'save', function save(fn) {
    const ctx = this[HOOKS]
    try {
      ctx.syncPrincipal(this)
    } catch (err) {
      return ctx.failed(fn, err)
    }
    ctx.savedHash = fingerprint(this)
    ctx.storedJson = undefined
    if (ctx.epoch === undefined || ctx.currentId() !== ctx.cookieId) return Session.prototype.save.apply(this, arguments)
    // Onto the session as loaded, as at the end of the request.
    let err = null
    try {
      ctx.saveNow(this)
    } catch (e) {
      err = forHttp(e)
    }
    if (typeof fn === 'function') process.nextTick(fn, err)
    return this
  })
  defineMethod(EngineSession.prototype, 'login', function login(userId, callback) {
    return this[HOOKS].doLogin(this, userId, callback)
  })
  defineMethod(EngineSession.prototype, 'logout', function logout(callback) {
    return this[HOOKS].doLogout(this, callback)
  })
  defineMethod(EngineSession.prototype, 'logoutEverywhere', function logoutEverywhere(callback) {
    return this[HOOKS].doLogoutEverywhere(this, callback)
  })
  Object.defineProperty(EngineSession.prototype, 'userId', {
    configurable: true,
    enumerable: false,
    get() {
      return this[HOOKS].userId
    },
    set: ownUserId,
  })

  const storeImplementsTouch = typeof store.touch === 'function'
  let storeReady = true
  store.on('disconnect', () => {
    storeReady = false
  })
  store.on('connect', () => {
    storeReady = true
  })

  // The state of one request; the middleware's steps are its methods (one object per
  // request instead of a closure per step).
  function Ctx(req, res, next, key) {
    this.req = req
    this.key = key
    this.res = res
    this.next = next
    this.originalHash = undefined
    this.originalId = undefined
    this.savedHash = undefined
    this.touched = false
    this.clearCookie = false
    this.cookieId = undefined
    // The payload text as last read from or written to the engine: an unchanged session
    // is not written again.
    this.storedJson = undefined
    this.originalJson = undefined
    this.userId = null
    // The user the session's data named (the `principal` option) when loaded or last bound.
    this.namedUser = undefined
    // The handle (two halves) and epoch of the session as loaded: a save lands only on
    // it, unchanged since (no resurrection after a logout elsewhere, no lost concurrent
    // update). No epoch: nothing loaded, saves go by the token.
    this.handleHigh = 0
    this.handleLow = 0
    this.epoch = undefined
    // No session cookie on this response (a dropped save, or the middleware's own answer).
    this.noCookie = false
    // Within one phase (response headers, response end) no app code runs, so the
    // session's fingerprint is computed once per phase.
    this.phaseFp = null
    this.headersFired = false
    this.ended = false
    this.writeHead = res.writeHead
    this._end = res.end
    this._write = res.write
  }

  // The current ID without asking the engine for one.
  Ctx.prototype.currentId = function () {
    const lazy = this.req[Session.lazyId]
    if (lazy && lazy() === null) return PENDING
    return this.req.sessionID
  }

  // Just before the headers are written.
  Ctx.prototype.headers = function () {
    const req = this.req
    const res = this.res
    if (this.noCookie) return
    if (this.clearCookie && !req.session) {
      try {
        appendHeader(res, cookieFn === null ? cookieText.clearCookie(cookieOptions.secure === 'auto' || cookieOptions.sameSite === 'auto' ? issecure(req, trustProxy) : cookieOptions.secure) : cookieText.configFor(cookieOf(req)).clearCookie())
      } catch (err) {
        setImmediate(this.next, err)
      }
      return
    }
    if (!req.session) return
    this.phaseFp = null
    const set = this.shouldSetCookie()
    this.phaseFp = null
    if (!set) return
    if (req.session.cookie.secure && !issecure(req, trustProxy)) return
    if (!this.touched) {
      req.session.touch()
      this.touched = true
    }
    try {
      const id = req.sessionID
      appendHeader(res, cookieText.setCookie(req.session.cookie, 's:' + this.key.signer.sign(id), this.leftMs(id)))
    } catch (err) {
      // A store failing as the ID is issued, with the response under way: no cookie.
      if (!isStoreError(err)) setImmediate(this.next, err)
    }
  }

  // The time session `id` has left before its absolute deadline, by the engine's clock
  // (the cookie's Max-Age runs to it at most: "max age" is how long a session lives from
  // its start); undefined for another store, or a cookie that has no Max-Age.
  Ctx.prototype.leftMs = function (id) {
    if (!engineIds || this.req.session.cookie.expires == null) return undefined
    try {
      return Math.max(0, engine.peek(id).absoluteDeadlineMs - engine.nowMs())
    } catch (err) {
      if (err.code === 'SESSILE_SESSION_INVALID') return undefined
      throw err
    }
  }

  // Answer `status` with the short text `body` in place of the app's response (whose
  // headers are not sent yet), without a session cookie.
  Ctx.prototype.answer = function (status, body) {
    const res = this.res
    this.ended = true
    this.noCookie = true
    for (const h of res.getHeaderNames()) res.removeHeader(h)
    res.statusCode = status
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    res.setHeader('Content-Length', Buffer.byteLength(body))
    res.setHeader('Cache-Control', 'no-store')
    if (status === 503) res.setHeader('Retry-After', '1')
    return this._end.call(res, body)
  }

  // An error of login / logout / logoutEverywhere. A store that cannot answer is the
  // middleware's to answer (503), while the response is not under way: the callback is
  // not called then (the request is over). Anything else goes to the callback.
  Ctx.prototype.failed = function (callback, err) {
    if (isStoreError(err) && !this.res.headersSent && !this.ended) {
      this.answer(503, STORE_UNAVAILABLE)
      return undefined
    }
    return finish(callback, forHttp(err))
  }

  // Save `sess` onto the session as loaded; a dropped save throws SESSILE_CONFLICT
  // (explicit `req.session.save()`); the epoch moves on with this request's own write.
  Ctx.prototype.saveNow = function (sess) {
    const json = text.stringify(sess)
    if (!store.saveLoaded(this.key.link, this.handleHigh, this.handleLow, this.epoch, sess, json)) {
      this.noCookie = true
      throw Object.assign(new Error(SESSION_CONFLICT.trim()), { code: 'SESSILE_CONFLICT', status: 409, statusCode: 409, expose: true })
    }
    this.epoch = store.engine.session((BigInt(this.handleHigh) << 32n) | BigInt(this.handleLow)).epoch
    this.storedJson = json
  }

  // A save dropped at the end of the request: nothing was written, and the cookie it
  // loaded is not sent again. When the request changed the session's data, the change is
  // lost: the client is told (409) rather than served as if it had been kept. A dropped
  // touch (the data unchanged) is nothing to tell.
  Ctx.prototype.dropped = function () {
    this.noCookie = true
    return this.origHash() !== this.fp(this.req.session) && !this.res.headersSent
  }

  Ctx.prototype.end = function (chunk, encoding) {
    if (this.ended) return false
    this.ended = true
    this.phaseFp = null
    const req = this.req
    const res = this.res
    if (!engineIds) return this.endAsync(chunk, encoding)
    // The engine answers synchronously: save before the response is written, in one
    // piece (no split write waiting for a callback). Over a shared store, the save goes
    // to Redis without blocking the event loop, and the response waits for it whole
    // (endSaving).
    let answer = null
    let wire
    try {
      if (this.shouldDestroy()) {
        store.destroySync(req.sessionID)
      } else if (req.session) {
        if (!this.touched) {
          req.session.touch()
          this.touched = true
        }
        // A user named or no longer named by the session (Passport's passport.user) is
        // bound or unbound now, unless the cookie has gone out already.
        if (!res.headersSent) this.syncPrincipal(req.session)
        this.phaseFp = null
        // Identical text is not written again (whether a save or a touch).
        const json = this.storedJson === undefined ? undefined : text.stringify(req.session)
        const id = this.currentId()
        if (json !== undefined && json === this.storedJson && this.originalId === id) {
          // unchanged since it was loaded or saved
        } else if (typeof id === 'string' && id !== PENDING && this.cookieId === id) {
          // A live session: shouldSave() or shouldTouch() holds, and both write it, onto
          // the session as loaded.
          if (this.epoch === undefined) store.setSync(id, req.session, json)
          else if ((wire = store.wire(this.key.link)) !== null) return this.endSaving(wire, json, chunk, encoding)
          else if (!store.saveLoaded(this.key.link, this.handleHigh, this.handleLow, this.epoch, req.session, json) && this.dropped()) answer = 409
        } else if (this.shouldSave()) {
          this.savedHash = this.fp(req.session)
          store.setSync(req.sessionID, req.session, json)
        } else if (this.shouldTouch()) {
          store.setSync(req.sessionID, req.session, json)
        }
      }
      // Security events of this request (and any before) to onEvent and the engine's
      // listeners, without the app draining them.
      if (engine.eventNames().length > 0) engine.emitEvents()
    } catch (err) {
      if (isStoreError(err) && !res.headersSent) answer = 503
      else setImmediate(this.next, err)
    } finally {
      this.phaseFp = null
    }
    if (answer === 503) return this.answer(503, STORE_UNAVAILABLE)
    if (answer === 409) return this.answer(409, SESSION_CONFLICT)
    return this._end.call(res, chunk, encoding)
  }

  // The end of a request whose save goes to a shared store on `wire`: the response is
  // written whole once the save is in (so a failed or dropped save can still answer 503
  // or 409 in its place, as the synchronous save does).
  Ctx.prototype.endSaving = function (wire, json, chunk, encoding) {
    const ctx = this
    const req = this.req
    const res = this.res
    store.saveLoadedAsync(this.key.link, wire, this.handleHigh, this.handleLow, this.epoch, req.session, json, function (err, stored) {
      let answer = null
      if (err) {
        if (isStoreError(err) && !res.headersSent) answer = 503
        else setImmediate(ctx.next, err)
      } else if (!stored && ctx.dropped()) {
        answer = 409
      }
      try {
        if (engine.eventNames().length > 0) engine.emitEvents()
      } catch (e) {
        setImmediate(ctx.next, e)
      }
      ctx.phaseFp = null
      if (answer === 503) return ctx.answer(503, STORE_UNAVAILABLE)
      if (answer === 409) return ctx.answer(409, SESSION_CONFLICT)
      ctx._end.call(res, chunk, encoding)
    })
    this.phaseFp = null
    return res
  }

  // express-session's end() with an asynchronous store.
  Ctx.prototype.endAsync = function (chunk, encoding) {
    const ctx = this
    const req = this.req
    const res = this.res
    const next = this.next
    const _end = this._end
    const _write = this._write
    let ret
    let sync = true
    function writeend() {
      if (sync) {
        ret = _end.call(res, chunk, encoding)
        sync = false
        return
      }
      _end.call(res)
    }
    function writetop() {
      if (!sync) return ret
      if (!res._header) res._implicitHeader()
      if (chunk == null) {
        ret = true
        return ret
      }
      const contentLength = Number(res.getHeader('Content-Length'))
      if (!isNaN(contentLength) && contentLength > 0) {
        chunk = !Buffer.isBuffer(chunk) ? Buffer.from(chunk, encoding) : chunk
        encoding = undefined
        if (chunk.length !== 0) {
          ret = _write.call(res, chunk.slice(0, chunk.length - 1))
          chunk = chunk.slice(chunk.length - 1, chunk.length)
          return ret
        }
      }
      ret = _write.call(res, chunk, encoding)
      sync = false
      return ret
    }
    if (ctx.shouldDestroy()) {
      store.destroy(req.sessionID, function (err) {
        if (err) setImmediate(next, err)
        writeend()
      })
      return writetop()
    }
    if (!req.session) return _end.call(res, chunk, encoding)
    if (!ctx.touched) {
      req.session.touch()
      ctx.touched = true
    }
    if (ctx.shouldSave()) {
      req.session.save(function (err) {
        if (err) setImmediate(next, err)
        writeend()
      })
      return writetop()
    } else if (storeImplementsTouch && ctx.shouldTouch()) {
      store.touch(req.sessionID, req.session, function (err) {
        if (err) setImmediate(next, err)
        writeend()
      })
      return writetop()
    }
    return _end.call(res, chunk, encoding)
  }

  Ctx.prototype.generate = function () {
    const req = this.req
    store.generate(req)
    this.originalId = engineIds ? PENDING : req.sessionID
    this.originalHash = fingerprint(req.session)
    if (!engineIds) this.wrapmethods(req.session)
  }

  // `cookie`: the session's Cookie when the store read it apart from `sess`; the handle's
  // halves and `epoch`: the session as loaded.
  Ctx.prototype.inflate = function (sess, principal, json, cookie, high, low, epoch) {
    const req = this.req
    this.handleHigh = high
    this.handleLow = low
    this.epoch = epoch
    if (json !== undefined) {
      // From the engine store: the hash is computed from the text when first needed.
      this.storedJson = json
      this.originalJson = json
      if (cookie === undefined) {
        const stored = sess.cookie
        cookie = Cookie.fromStored(stored)
        if (cookie === null) {
          // Fields the engine store never writes: express-session's own steps.
          cookie = new Cookie(stored)
          if (typeof stored.expires === 'string') cookie.expires = new Date(stored.expires)
          cookie.originalMaxAge = stored.originalMaxAge
        }
        sess.cookie = cookie
      }
      this.userId = principal
      this.namedUser = this.userOf(sess)
      req.session = new EngineSession(this, sess, cookie)
      this.originalId = req.sessionID
      this.originalHash = ORIGINAL
      if (!resaveSession) this.savedHash = ORIGINAL
      return
    }
    if (engineIds) req[Session.lazyId] = () => req.sessionID
    store.createSession(req, sess)
    this.originalId = req.sessionID
    this.originalHash = fingerprint(sess)
    if (!resaveSession) this.savedHash = this.originalHash
    if (principal !== undefined) this.userId = principal
    if (engineIds) this.namedUser = this.userOf(sess)
    this.wrapmethods(req.session)
  }

  Ctx.prototype.origHash = function () {
    if (this.originalHash === ORIGINAL) this.originalHash = fingerprintOfJson(this.originalJson)
    return this.originalHash
  }

  Ctx.prototype.saved = function () {
    if (this.savedHash === ORIGINAL) this.savedHash = this.origHash()
    return this.savedHash
  }

  Ctx.prototype.rewrapmethods = function (sess, callback) {
    const ctx = this
    return function () {
      if (ctx.req.session !== sess) ctx.wrapmethods(ctx.req.session)
      callback.apply(this, arguments)
    }
  }

  Ctx.prototype.wrapmethods = function (sess) {
    const ctx = this
    const _reload = sess.reload
    const _save = sess.save
    defineMethod(sess, 'reload', function reload(callback) {
      ctx.storedJson = undefined
      _reload.call(this, ctx.rewrapmethods(this, callback))
    })
    defineMethod(sess, 'save', function save(callback) {
      try {
        ctx.syncPrincipal(this)
      } catch (err) {
        return ctx.failed(callback, err)
      }
      ctx.savedHash = fingerprint(this)
      ctx.storedJson = undefined
      // Saved by its ID from here on (this session object is not the engine store's).
      ctx.epoch = undefined
      _save.apply(this, arguments)
    })
    defineMethod(sess, 'login', function login(userId, callback) {
      return ctx.doLogin(this, userId, callback)
    })
    defineMethod(sess, 'logout', function logout(callback) {
      return ctx.doLogout(this, callback)
    })
    defineMethod(sess, 'logoutEverywhere', function logoutEverywhere(callback) {
      return ctx.doLogoutEverywhere(this, callback)
    })
    if (!Object.prototype.hasOwnProperty.call(sess, 'userId')) {
      Object.defineProperty(sess, 'userId', {
        configurable: true,
        get() {
          return ctx.userId
        },
        set: ownUserId,
      })
    }
  }

  // Bind the session to `userId`, keep its data, rotate its ID (the old one dies).
  Ctx.prototype.doLogin = function (sess, userId, callback) {
    if (typeof userId !== 'string' || userId === '') {
      return finish(callback, new TypeError('login(userId): userId must be a non-empty string'))
    }
    if (!engineIds) {
      return finish(callback, new TypeError('session.login() needs the sessile engine store'))
    }
    const req = this.req
    let issued
    try {
      const sid = req.sessionID // issues one when the session is new
      if (this.epoch !== undefined && sid === this.cookieId) this.saveNow(sess)
      else store.setSync(sid, sess)
      issued = store.engine.login(sid, userId)
    } catch (err) {
      return this.failed(callback, err)
    }
    this.epoch = undefined
    req.sessionID = issued.token
    this.userId = userId
    this.savedHash = undefined
    this.storedJson = undefined
    return finish(callback, null)
  }

  // The user `sess` names by the `principal` option (default: Passport's passport.user).
  Ctx.prototype.userOf = function (sess) {
    const user = principalOf(sess)
    if (user === undefined || user === null || user === '') return undefined
    if (typeof user !== 'string') throw new TypeError('principal option must return a string or undefined')
    return user
  }

  // Bind the user the session names in the engine (its principal: "log out everywhere",
  // the per-user cap, never evicted for an anonymous session), or unbind the one it no
  // longer names: Passport's req.login sets passport.user and saves, req.logout deletes it
  // and saves. Binding is the engine's login (the ID rotates); unbinding ends the user's
  // engine session and carries the data on in a fresh anonymous one (new ID). A user bound
  // by session.login() (no such field) stays bound.
  Ctx.prototype.syncPrincipal = function (sess) {
    if (!engineIds) return
    const user = this.userOf(sess)
    const bound = this.userId
    if (user === undefined && (bound === null || this.namedUser === undefined)) return
    if (user === bound) {
      this.namedUser = user
      return
    }
    const req = this.req
    if (bound !== null) {
      const old = this.currentId()
      if (typeof old === 'string' && old !== PENDING) store.destroySync(old)
      req.sessionID = store.issue(req)
      this.epoch = undefined
    }
    if (user !== undefined) {
      const sid = req.sessionID // issues one when the session is new
      // Onto the session as loaded when it is that one (as doLogin saves).
      if (this.epoch !== undefined && sid === this.cookieId) this.saveNow(sess)
      else store.setSync(sid, sess)
      req.sessionID = store.engine.login(sid, user).token
      this.epoch = undefined
    }
    this.userId = user === undefined ? null : user
    this.namedUser = user
    this.savedHash = undefined
    this.storedJson = undefined
  }

  // End the session server-side and clear the cookie.
  Ctx.prototype.doLogout = function (sess, callback) {
    const id = this.currentId()
    delete this.req.session
    this.clearCookie = true
    if (id === PENDING || typeof id !== 'string') return finish(callback, null)
    const ctx = this
    store.destroy(id, function (err) {
      if (err) return ctx.failed(callback, err)
      finish(callback, null)
    })
  }


  // End every session of the logged-in user; the callback gets how many.
  Ctx.prototype.doLogoutEverywhere = function (sess, callback) {
    if (!engineIds) {
      return finish(callback, new TypeError('session.logoutEverywhere() needs the sessile engine store'))
    }
    if (!this.userId) return finish(callback, null, 0)
    let n
    try {
      n = store.engine.revokePrincipal(this.userId)
    } catch (err) {
      return this.failed(callback, err)
    }
    delete this.req.session
    this.clearCookie = true
    return finish(callback, null, n)
  }

  Ctx.prototype.fp = function (sess) {
    if (this.phaseFp === null) this.phaseFp = fingerprint(sess)
    return this.phaseFp
  }
  Ctx.prototype.isModified = function (sess) {
    return this.originalId !== this.currentId() || this.origHash() !== this.fp(sess)
  }
  Ctx.prototype.isSaved = function (sess) {
    return this.originalId === this.currentId() && this.saved() === this.fp(sess)
  }
  Ctx.prototype.shouldDestroy = function () {
    const id = this.currentId()
    return id && id !== PENDING && unsetDestroy && this.req.session == null
  }
  Ctx.prototype.shouldSave = function () {
    const id = this.currentId()
    if (typeof id !== 'string') return false
    return !saveUninitializedSession && !this.saved() && this.cookieId !== id
      ? this.isModified(this.req.session)
      : !this.isSaved(this.req.session)
  }
  Ctx.prototype.shouldTouch = function () {
    const id = this.currentId()
    if (typeof id !== 'string' || id === PENDING) return false
    return this.cookieId === id && !this.shouldSave()
  }
  Ctx.prototype.shouldSetCookie = function () {
    const id = this.currentId()
    if (typeof id !== 'string') return false
    return this.cookieId !== id
      ? saveUninitializedSession || this.isModified(this.req.session)
      : rollingSessions || (this.req.session.cookie.expires != null && this.isModified(this.req.session))
  }

  const middleware = function session(req, res, next) {
    if (req.session) return next()
    if (!storeReady) return next()
    const url = req.originalUrl || req.url || '/'
    const q = url.indexOf('?')
    const originalPath = (q === -1 ? url : url.slice(0, q)) || '/'
    let resolved
    try {
      resolved = cookieOptionsOf(req)
      // What a function gave is checked by the core's rules before the app runs.
      if (cookieFn !== null) cookieText.configFor(cookieOf(req))
    } catch (err) {
      return next(err)
    }
    if (originalPath.indexOf(resolved.path || '/') !== 0) return next()
    // The secret (compat without a secret option: req.secret, as express-session reads it).
    const key = keyOf(req)
    if (key === null) return next(new Error('secret option required for sessions'))
    const signer = key.signer
    const link = key.link

    // Both get several properties below (req: sessionStore, sessionID, session; res:
    // writeHead, end).
    toDictionary(req, 'res')
    toDictionary(res, 'req')
    req.sessionStore = store
    const ctx = new Ctx(req, res, next, key)
    if (engineIds) req[CTX] = ctx
    const writeHead = ctx.writeHead
    res.writeHead = function (statusCode) {
      if (!ctx.headersFired) {
        ctx.headersFired = true
        // Keep statusCode/headers passed to writeHead visible to the listener.
        if (typeof statusCode === 'number') res.statusCode = statusCode
        ctx.headers()
      }
      return writeHead.apply(this, arguments)
    }
    res.end = function end(chunk, encoding) {
      return ctx.end(chunk, encoding)
    }

    // With the engine store, the signature check and the load are one native call.
    let loaded
    let loadError
    let cookieId
    if (engineIds) {
      const header = req.headers.cookie
      const raw = header ? read(header, name) : undefined
      if (raw === undefined) {
        cookieId = fromParsers(req, name, signer)
      } else if (typeof raw === 'string') {
        // "s:" + token + "." + signature, the token not empty
        const dot = raw.lastIndexOf('.')
        if (dot > 2 && raw.startsWith('s:')) {
          const wire = store.wire(link)
          if (wire !== null) {
            // A shared store: the lookup goes to Redis without blocking the event loop.
            return store.loadLinkedAsync(link, wire, raw.slice(2), req, function (err, got) {
              if (err) return start(ctx, req, next, undefined, err, raw.slice(2, dot))
              start(ctx, req, next, got, undefined, got !== false ? raw.slice(2, dot) : undefined)
            })
          }
          try {
            loaded = store.loadLinked(link, raw.slice(2), req)
          } catch (err) {
            // Only a verified token gets as far as an error.
            loadError = err
          }
          if (loaded !== false) cookieId = raw.slice(2, dot)
        }
      } else {
        // Sent several times (cookie tossing, or stale copies of another path or domain):
        // the engine chooses among the copies in the signed form.
        const copies = []
        for (const copy of raw) {
          if (copy.lastIndexOf('.') > 2 && copy.startsWith('s:')) copies.push(copy.slice(2))
        }
        if (copies.length > 0) {
          let got = null
          try {
            got = store.loadCopies(link, copies, req)
          } catch (err) {
            loadError = err
          }
          if (got) {
            const chosen = copies[got[1]]
            loaded = got[0]
            cookieId = chosen.slice(0, chosen.lastIndexOf('.'))
          }
        }
      }
    } else {
      cookieId = getcookie(req, name, signer)
    }
    return start(ctx, req, next, loaded, loadError, cookieId)
  }

  // The request goes on with what its load found (`loaded`: as loadLinked returns, or
  // undefined when there was nothing to load with the cookie alone), `loadError`, and
  // the ID its cookie named.
  function start(ctx, req, next, loaded, loadError, cookieId) {
    req.sessionID = ctx.cookieId = cookieId
    if (loadError !== undefined) return isStoreError(loadError) ? ctx.answer(503, STORE_UNAVAILABLE) : next(loadError)

    if (!cookieId) {
      ctx.generate()
      return next()
    }
    if (engineIds) {
      let got = loaded
      if (got === undefined) {
        try {
          got = store.loadSync(cookieId, req)
        } catch (err) {
          return isStoreError(err) ? ctx.answer(503, STORE_UNAVAILABLE) : next(err)
        }
      }
      try {
        if (got) ctx.inflate(got[0], got[1], got[2], got[3], got[4], got[5], got[6])
        else ctx.generate()
      } catch (err) {
        return next(err)
      }
      return next()
    }
    store.get(req.sessionID, function (err, sess) {
      if (err && isStoreError(err)) return ctx.answer(503, STORE_UNAVAILABLE)
      if (err && err.code !== 'ENOENT') return next(err)
      try {
        if (err || !sess) ctx.generate()
        else ctx.inflate(sess)
      } catch (e) {
        return next(e)
      }
      next()
    })
  }
  // The engine sessions live in (null with a custom store): for engine.on(kind, ...),
  // revokePrincipal, stats.
  middleware.engine = engine
  return middleware
}

// `req.session.userId` is the user bound by login() until the app stores a `userId` of its
// own (express-session apps do: `req.session.userId = user.id`); then it is that session
// data, saved like any other.
function ownUserId(value) {
  Object.defineProperty(this, 'userId', { configurable: true, enumerable: true, writable: true, value })
}

function finish(callback, err, value) {
  if (typeof callback === 'function') callback(err, value)
  else if (err) throw err
  return value
}

// express-session's default ID: 24 random bytes, base64url (uid-safe).
function defaultId() {
  return require('node:crypto').randomBytes(24).toString('base64url')
}

session.Store = Store
session.Cookie = Cookie
session.Session = Session
session.MemoryStore = MemoryStore
session.EngineStore = EngineStore
session.SessileStore = SessileStore

module.exports = session
