'use strict'
// `require('sessile/express')`: a drop-in replacement for `require('express-session')`.
// The middleware follows express-session 1.18's logic step by step (same options, same
// req.session API, same signed cookie); the default store is the sessile engine.
// Differences from express-session are listed in README.md ("Secure defaults").
const { Cookie, read, serialize } = require('./lib/cookie')
const { Signer } = require('./index.js')
const { Session, Store, MemoryStore } = require('./lib/store')
const { EngineStore, SessileStore } = require('./lib/engine-store')

const PENDING = '\0sessile-pending'

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

function fingerprint(sess) {
  return JSON.stringify(sess, function (key, val) {
    if (this === sess && key === 'cookie') return undefined
    return val
  })
}

// The session ID in the request's cookie, when its signature verifies (then, as
// express-session does, cookie-parser's req.signedCookies / req.cookies).
function getcookie(req, name, signer) {
  const header = req.headers.cookie
  let val
  if (header) {
    const raw = read(header, name)
    if (raw && raw.slice(0, 2) === 's:') val = signer.unsign(raw.slice(2)) ?? undefined
  }
  if (!val && req.signedCookies) val = req.signedCookies[name]
  if (!val && req.cookies) {
    const raw = req.cookies[name]
    if (typeof raw === 'string' && raw.slice(0, 2) === 's:') val = signer.unsign(raw.slice(2)) ?? undefined
  }
  return val
}

function appendHeader(res, data) {
  const prev = res.getHeader('Set-Cookie') || []
  res.setHeader('Set-Cookie', Array.isArray(prev) ? prev.concat(data) : [prev, data])
}

// Run `listener` once, just before the headers are written (what on-headers does).
function onHeaders(res, listener) {
  const writeHead = res.writeHead
  let fired = false
  res.writeHead = function (statusCode) {
    if (!fired) {
      fired = true
      // Keep statusCode/headers passed to writeHead visible to the listener.
      if (typeof statusCode === 'number') res.statusCode = statusCode
      listener.call(res)
    }
    return writeHead.apply(this, arguments)
  }
}

function checkSecret(secret) {
  const ok = (s) => (typeof s === 'string' && s.length > 0) || (Buffer.isBuffer(s) && s.length > 0)
  if (Array.isArray(secret)) {
    if (secret.length === 0) throw new TypeError('secret option array must contain one or more strings')
    if (!secret.every(ok)) throw new TypeError('secret option must be non-empty strings or Buffers')
    return secret
  }
  if (!ok(secret)) throw new TypeError('secret option required for sessions (a non-empty string, Buffer or array)')
  return [secret]
}

function session(options) {
  const opts = options || {}
  const cookieOptions = Object.assign({ sameSite: 'lax', secure: 'auto' }, opts.cookie)
  const generateId = opts.genid
  const name = opts.name || opts.key || 'connect.sid'
  const store = opts.store || new EngineStore(opts.engine ? { engine: opts.engine } : opts.engineOptions)
  const trustProxy = opts.proxy
  const resaveSession = opts.resave === undefined ? false : Boolean(opts.resave)
  const rollingSessions = Boolean(opts.rolling)
  const saveUninitializedSession = opts.saveUninitialized === undefined ? false : Boolean(opts.saveUninitialized)
  const signer = new Signer(checkSecret(opts.secret))
  const engineIds = store.issuesIds === true

  if (generateId !== undefined && typeof generateId !== 'function') {
    throw new TypeError('genid option must be a function')
  }
  if (generateId !== undefined && engineIds) {
    throw new TypeError('genid cannot be used with the sessile engine store: the engine issues session IDs')
  }
  if (opts.unset && opts.unset !== 'destroy' && opts.unset !== 'keep') {
    throw new TypeError('unset option must be "destroy" or "keep"')
  }
  const unsetDestroy = opts.unset === 'destroy'
  const idOf = generateId || defaultId

  store.generate = function (req) {
    if (engineIds) {
      let token = null
      Object.defineProperty(req, 'sessionID', {
        configurable: true,
        enumerable: true,
        get() {
          if (token === null) token = store.issue(req)
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
    req.session.cookie = new Cookie(cookieOptions)
    if (cookieOptions.secure === 'auto') req.session.cookie.secure = issecure(req, trustProxy)
  }

  const storeImplementsTouch = typeof store.touch === 'function'
  let storeReady = true
  store.on('disconnect', () => {
    storeReady = false
  })
  store.on('connect', () => {
    storeReady = true
  })

  return function session(req, res, next) {
    if (req.session) return next()
    if (!storeReady) return next()
    const url = req.originalUrl || req.url || '/'
    const q = url.indexOf('?')
    const originalPath = (q === -1 ? url : url.slice(0, q)) || '/'
    if (originalPath.indexOf(cookieOptions.path || '/') !== 0) return next()

    let originalHash
    let originalId
    let savedHash
    let touched = false
    let clearCookie = false

    req.sessionStore = store
    const cookieId = (req.sessionID = getcookie(req, name, signer))

    // The current ID without asking the engine for one.
    function currentId() {
      const lazy = req[Session.lazyId]
      if (lazy && lazy() === null) return PENDING
      return req.sessionID
    }

    onHeaders(res, function () {
      if (clearCookie && !req.session) {
        const c = new Cookie(cookieOptions)
        if (cookieOptions.secure === 'auto') c.secure = issecure(req, trustProxy)
        c.expires = new Date(0)
        appendHeader(res, serialize(name, '', Object.assign(c.data, { maxAge: 0 })))
        return
      }
      if (!req.session) return
      phaseFp = null
      const set = shouldSetCookie(req)
      phaseFp = null
      if (!set) return
      if (req.session.cookie.secure && !issecure(req, trustProxy)) return
      if (!touched) {
        req.session.touch()
        touched = true
      }
      try {
        appendHeader(res, req.session.cookie.serialize(name, 's:' + signer.sign(req.sessionID)))
      } catch (err) {
        setImmediate(next, err)
      }
    })

    const _end = res.end
    const _write = res.write
    let ended = false
    res.end = function end(chunk, encoding) {
      if (ended) return false
      ended = true
      phaseFp = null
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
      if (engineIds) {
        // The engine answers synchronously: save before the response is written, in
        // one piece (no split write waiting for a callback).
        try {
          if (shouldDestroy(req)) {
            store.destroySync(req.sessionID)
          } else if (req.session) {
            if (!touched) {
              req.session.touch()
              touched = true
            }
            phaseFp = null
            if (shouldSave(req)) {
              savedHash = fp(req.session)
              store.setSync(req.sessionID, req.session)
            } else if (shouldTouch(req)) {
              store.setSync(req.sessionID, req.session)
            }
          }
        } catch (err) {
          setImmediate(next, err)
        } finally {
          phaseFp = null
        }
        return _end.call(res, chunk, encoding)
      }
      if (shouldDestroy(req)) {
        store.destroy(req.sessionID, function (err) {
          if (err) setImmediate(next, err)
          writeend()
        })
        return writetop()
      }
      if (!req.session) return _end.call(res, chunk, encoding)
      if (!touched) {
        req.session.touch()
        touched = true
      }
      if (shouldSave(req)) {
        req.session.save(function (err) {
          if (err) setImmediate(next, err)
          writeend()
        })
        return writetop()
      } else if (storeImplementsTouch && shouldTouch(req)) {
        store.touch(req.sessionID, req.session, function (err) {
          if (err) setImmediate(next, err)
          writeend()
        })
        return writetop()
      }
      return _end.call(res, chunk, encoding)
    }

    function generate() {
      store.generate(req)
      originalId = engineIds ? PENDING : req.sessionID
      originalHash = fingerprint(req.session)
      wrapmethods(req.session)
    }

    function inflate(sess, principal) {
      if (engineIds) req[Session.lazyId] = () => req.sessionID
      store.createSession(req, sess)
      originalId = req.sessionID
      originalHash = fingerprint(sess)
      if (!resaveSession) savedHash = originalHash
      if (principal !== undefined) Object.defineProperty(req.session, 'userId', { configurable: true, value: principal })
      wrapmethods(req.session)
    }

    function rewrapmethods(sess, callback) {
      return function () {
        if (req.session !== sess) wrapmethods(req.session)
        callback.apply(this, arguments)
      }
    }

    function wrapmethods(sess) {
      const _reload = sess.reload
      const _save = sess.save
      defineMethod(sess, 'reload', function reload(callback) {
        _reload.call(this, rewrapmethods(this, callback))
      })
      defineMethod(sess, 'save', function save() {
        savedHash = fingerprint(this)
        _save.apply(this, arguments)
      })
      defineMethod(sess, 'login', function login(userId, callback) {
        return doLogin(this, userId, callback)
      })
      defineMethod(sess, 'logout', function logout(callback) {
        return doLogout(this, callback)
      })
      defineMethod(sess, 'logoutEverywhere', function logoutEverywhere(callback) {
        return doLogoutEverywhere(this, callback)
      })
      if (!Object.prototype.hasOwnProperty.call(sess, 'userId')) {
        Object.defineProperty(sess, 'userId', { configurable: true, value: null })
      }
    }

    function finish(callback, err, value) {
      if (typeof callback === 'function') callback(err, value)
      else if (err) throw err
      return value
    }

    // Bind the session to `userId`, keep its data, rotate its ID (the old one dies).
    function doLogin(sess, userId, callback) {
      if (typeof userId !== 'string' || userId === '') {
        return finish(callback, new TypeError('login(userId): userId must be a non-empty string'))
      }
      if (!engineIds) {
        return finish(callback, new TypeError('session.login() needs the sessile engine store'))
      }
      let issued
      try {
        const sid = req.sessionID // issues one when the session is new
        store.setSync(sid, sess)
        issued = store.engine.login(sid, userId)
      } catch (err) {
        return finish(callback, err)
      }
      req.sessionID = issued.token
      Object.defineProperty(sess, 'userId', { configurable: true, value: userId })
      savedHash = undefined
      return finish(callback, null)
    }

    // End the session server-side and clear the cookie.
    function doLogout(sess, callback) {
      const id = currentId()
      delete req.session
      clearCookie = true
      if (id === PENDING || typeof id !== 'string') return finish(callback, null)
      store.destroy(id, function (err) {
        finish(callback, err)
      })
    }

    // End every session of the logged-in user; the callback gets how many.
    function doLogoutEverywhere(sess, callback) {
      if (!engineIds) {
        return finish(callback, new TypeError('session.logoutEverywhere() needs the sessile engine store'))
      }
      if (!sess.userId) return finish(callback, null, 0)
      let n
      try {
        n = store.engine.revokePrincipal(sess.userId)
      } catch (err) {
        return finish(callback, err)
      }
      delete req.session
      clearCookie = true
      return finish(callback, null, n)
    }

    // Within one phase (response headers, response end) no app code runs, so the
    // session's fingerprint is computed once per phase.
    let phaseFp = null
    function fp(sess) {
      if (phaseFp === null) phaseFp = fingerprint(sess)
      return phaseFp
    }
    function isModified(sess) {
      return originalId !== currentId() || originalHash !== fp(sess)
    }
    function isSaved(sess) {
      return originalId === currentId() && savedHash === fp(sess)
    }
    function shouldDestroy(req) {
      return currentId() && currentId() !== PENDING && unsetDestroy && req.session == null
    }
    function shouldSave(req) {
      if (typeof currentId() !== 'string') return false
      return !saveUninitializedSession && !savedHash && cookieId !== currentId()
        ? isModified(req.session)
        : !isSaved(req.session)
    }
    function shouldTouch(req) {
      if (typeof currentId() !== 'string' || currentId() === PENDING) return false
      return cookieId === currentId() && !shouldSave(req)
    }
    function shouldSetCookie(req) {
      if (typeof currentId() !== 'string') return false
      return cookieId !== currentId()
        ? saveUninitializedSession || isModified(req.session)
        : rollingSessions || (req.session.cookie.expires != null && isModified(req.session))
    }

    if (!cookieId) {
      generate()
      return next()
    }
    if (engineIds) {
      let got
      try {
        got = store.loadSync(cookieId, req)
      } catch (err) {
        return next(err)
      }
      try {
        if (got) inflate(got[0], got[1])
        else generate()
      } catch (err) {
        return next(err)
      }
      return next()
    }
    store.get(req.sessionID, function (err, sess) {
      if (err && err.code !== 'ENOENT') return next(err)
      try {
        if (err || !sess) generate()
        else inflate(sess)
      } catch (e) {
        return next(e)
      }
      next()
    })
  }
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
