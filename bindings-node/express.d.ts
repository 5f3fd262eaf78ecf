// Types of `sessile/express`, the drop-in replacement for express-session.
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine, EngineOptions, EventRecord } from './index'

declare function session(options: session.SessionOptions): session.Middleware

// `req.session`, `req.sessionID` and `req.sessionStore` on Express's Request, as
// @types/express-session declares them: the session's data are typed by augmenting
// `SessionData` (`declare module 'sessile/express' { interface SessionData { ... } }`).
declare global {
  namespace Express {
    interface Request {
      session: session.Session & Partial<session.SessionData>
      sessionID: string
      sessionStore: session.Store
    }
  }
}

declare namespace session {
  type Middleware = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) & {
    /** The engine sessions are kept in; `null` with a custom `store`. */
    readonly engine: Engine | null
  }
  type Callback = (err?: unknown) => void

  interface CookieOptions {
    /** Lifetime in milliseconds (`null`: a browser-session cookie). */
    maxAge?: number | null
    expires?: Date | null
    httpOnly?: boolean
    /** Default `'auto'`: Secure over HTTPS (express-session's default is false). */
    secure?: boolean | 'auto'
    /**
     * Default `'lax'` (express-session, and `compat: 'express-session'`: none). `'auto'`:
     * `None` (and Secure) over HTTPS, `Lax` over HTTP, as seen through `proxy`.
     */
    sameSite?: boolean | 'lax' | 'strict' | 'none' | 'auto'
    domain?: string
    path?: string
    partitioned?: boolean
    priority?: 'low' | 'medium' | 'high'
  }

  interface SessionOptions {
    /**
     * Signing secret; an array rotates secrets (the first signs, all verify). Required,
     * except with `compat: 'express-session'`, where `req.secret` is used when absent.
     */
    secret?: string | Buffer | Array<string | Buffer>
    /** Cookie name, default `connect.sid`. */
    name?: string
    /** Deprecated alias of `name`, as in express-session. */
    key?: string
    /** The cookie's attributes, or (express-session 1.19) a function of the request giving them. */
    cookie?: CookieOptions | ((req: IncomingMessage) => CookieOptions)
    /** Only with a custom `store`: the sessile engine issues its own IDs. */
    genid?: (req: IncomingMessage) => string
    rolling?: boolean
    /** Default false (express-session, and `compat: 'express-session'`: true). */
    resave?: boolean
    /** Default false (express-session, and `compat: 'express-session'`: true). */
    saveUninitialized?: boolean
    proxy?: boolean
    unset?: 'destroy' | 'keep'
    /** A classic express-session store; default: the bounded sessile engine. */
    store?: Store
    /**
     * The engine to keep sessions in (default: a new one from `engineOptions`; not both).
     * Over a shared store (`store: 'redis://...'` in its options) every worker and host
     * sees the same sessions; while the store cannot answer, requests get 503 (a short text).
     */
    engine?: Engine
    engineOptions?: EngineOptions
    /**
     * Sessions in this process kept across a restart: restored from `path` now, written
     * there at SIGTERM, SIGINT and exit (encrypted and authenticated under `key`: 32
     * bytes, a Buffer or 64 hex digits). A file refused (tampered, truncated, older than
     * `maxAgeMs`, another key) is a warning, and the engine starts empty. Not for a
     * shared store, which keeps its sessions itself.
     */
    snapshot?: SnapshotOnShutdown
    /**
     * The migration setting: express-session's defaults where sessile's differ (`resave`
     * and `saveUninitialized` true, `cookie.secure` false, no SameSite, `req.secret`
     * read when `secret` is absent). The engine store and its lifetimes stay.
     */
    compat?: 'express-session'
    /** Called with each security event of the engine, after the request that caused it. */
    onEvent?: (event: EventRecord) => void
    /**
     * The user a saved session names, bound in the engine at save (Passport's login and
     * logout). Default: Passport's `passport.user` (a string, a number, or an object's `id`).
     */
    principal?: (session: Partial<SessionData> & Record<string, unknown>) => string | undefined
  }

  interface SnapshotOnShutdown {
    path: string
    key: Buffer | string
    /** The oldest snapshot accepted, ms (default one hour). */
    maxAgeMs?: number
  }

  class Cookie {
    constructor(options?: CookieOptions)
    maxAge: number | null
    originalMaxAge: number | null
    expires: Date | null | undefined
    httpOnly: boolean
    secure?: boolean
    sameSite?: boolean | 'lax' | 'strict' | 'none'
    domain?: string
    path: string
    partitioned?: boolean
    priority?: 'low' | 'medium' | 'high'
    readonly data: CookieOptions & { originalMaxAge: number | null }
    /**
     * The `Set-Cookie` value for cookie `name` carrying `value` with these attributes,
     * written by the core (`Max-Age` from `maxAge`); a combination browsers reject throws
     * `SESSILE_CONFIG`.
     */
    serialize(name: string, value: string): string
    toJSON(): CookieOptions & { originalMaxAge: number | null }
  }

  /**
   * The data of a session; augment it to type yours, as with @types/express-session:
   * `declare module 'sessile/express' { interface SessionData { views: number } }`.
   */
  interface SessionData {
    cookie: Cookie
  }

  class Session {
    constructor(req: IncomingMessage, data?: object)
    readonly id: string
    cookie: Cookie
    /**
     * The user bound in the engine (`login`, or Passport's `req.login`), `null` for an
     * anonymous session; once the app stores a `userId` of its own in the session (as
     * express-session apps do), that value instead.
     */
    userId: string | null
    regenerate(callback: Callback): this
    destroy(callback: Callback): this
    reload(callback: Callback): this
    save(callback?: Callback): this
    touch(): this
    resetMaxAge(): this
    /** Bind the session to `userId`: the data is kept, the ID rotates (anti-fixation). */
    login(userId: string, callback?: Callback): void
    /** End the session server-side and clear the cookie. */
    logout(callback?: Callback): void
    /** End every session of the logged-in user; the callback gets how many. */
    logoutEverywhere(callback?: (err: unknown, count?: number) => void): void
  }

  class Store extends EventEmitter {
    constructor()
    regenerate(req: IncomingMessage, callback: Callback): void
    load(sid: string, callback: (err: unknown, session?: Session) => void): void
    createSession(req: IncomingMessage, session: SessionData): Session
    get?(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void
    set?(sid: string, session: SessionData, callback?: Callback): void
    destroy?(sid: string, callback?: Callback): void
    touch?(sid: string, session: SessionData, callback?: Callback): void
    all?(callback: (err: unknown, sessions?: Record<string, SessionData>) => void): void
    length?(callback: (err: unknown, length?: number) => void): void
    clear?(callback?: Callback): void
  }

  /** express-session's unbounded in-memory store, for compatibility. */
  class MemoryStore extends Store {}

  /** The default store of sessile/express: IDs are engine tokens. */
  class EngineStore extends Store {
    constructor(options?: EngineOptions & { engine?: Engine })
    readonly engine: Engine
  }

  interface SessileStoreOptions extends EngineOptions {
    /** The engine to keep sessions in (then no other engine option may be given). */
    engine?: Engine
    /**
     * The user a stored session belongs to, or undefined for an anonymous one. Default:
     * Passport's `passport.user` (a string, a number, or an object's `id`).
     */
    principal?: (session: Partial<SessionData> & Record<string, unknown>) => string | undefined
    /** Called with each security event of the engine, after the store call that caused it. */
    onEvent?: (event: EventRecord) => void
  }

  /**
   * A bounded, expiring store for the original express-session. A session that names a
   * user (`principal`) is logged in to the engine: never evicted for an anonymous one, and
   * ended by `engine.revokePrincipal(user)`. Unknown options throw a `TypeError`.
   */
  class SessileStore extends Store {
    constructor(options?: SessileStoreOptions)
    readonly engine: Engine
  }
}

export = session
