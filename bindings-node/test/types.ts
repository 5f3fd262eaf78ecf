// Compiled by `make lint-node` (tsc --noEmit --strict): the published types describe the API.
import { CookieConfig, Engine, EngineConfig, EngineOptions, Restored, SessileError, SessileErrorCode, SnapshotReason, configKeys, formatSetCookie, resolveOptions } from 'sessile'
import session = require('sessile/express')

declare module 'sessile/express' {
  interface SessionData {
    uid: string
  }
}

const engine = new Engine({ capacity: 10, idleTimeoutMs: 60_000, cookieSameSite: 'strict', cookieDomain: null, clock: () => 0 })
const { token, session: info } = engine.create({ ip: '127.0.0.1' })
const handle: bigint = info.handle
engine.writeJson(handle, { cart: [1] })
const data: unknown = engine.readJson(handle)
engine.on('event', (e: { kind: string }) => e.kind)
const n: number = engine.emitEvents()
try {
  engine.validate(token)
} catch (err) {
  const e = err as SessileError
  const code: SessileErrorCode = e.code
  void code
}
const header: string | null = formatSetCookie({ cookieName: 'sid', cookieSecure: false }, token, 60)
const config = new CookieConfig({ cookieName: 'sid', cookieSecure: true, cookieSameSite: 'none' })
const set: string | null = config.setCookie(token, 60_000)
const clear: string = config.clearCookie()
const cookieName: string = config.name
const idle: number = resolveOptions().idleTimeoutMs
const shown: EngineConfig = engine.config
const again: EngineOptions = shown
const sameSite: 'strict' | 'lax' | 'none' | 'omit' = shown.cookieSameSite
const domain: string | null = shown.cookieDomain
const names: string[] = configKeys().map((k) => k.name)
// @ts-expect-error the cookie options are flat keys
new Engine({ cookie: { sameSite: 'strict' } })
// @ts-expect-error a spelling the key does not take
new Engine({ cookieSameSite: 'Lax' })
const mw: session.Middleware = session({ secret: ['a', Buffer.from('b')], cookie: { maxAge: 1000, secure: 'auto' }, rolling: true })
const store = new session.SessileStore({ capacity: 100, principal: (s) => (typeof s.uid === 'string' ? s.uid : undefined) })
store.get?.('sid', () => undefined)
const key = Buffer.alloc(32)
const size: number = engine.snapshot('/tmp/sessions.snap', key, { wallMs: 0 })
const restored: Engine = Engine.restore('/tmp/sessions.snap', key, { capacity: 10, maxAgeMs: 60_000, clock: () => 0 })
const back: Restored = new Engine().restoreFrom('/tmp/sessions.snap', key)
restored.emitEvents()
const why: SnapshotReason = 'snapshot_tampered'
// @ts-expect-error the key is bytes, not a password
engine.snapshot('/tmp/sessions.snap', 'secret')
void [data, n, header, set, clear, cookieName, idle, again, sameSite, domain, names, mw, size, back, why]
