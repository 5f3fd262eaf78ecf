// Compiled by `make lint-node` (tsc --noEmit --strict): the published types describe the API.
import { CookieConfig, Engine, SessileError, SessileErrorCode, formatSetCookie, resolveOptions } from 'sessile'
import session = require('sessile/express')

const engine = new Engine({ capacity: 10, idleTimeoutMs: 60_000, cookie: { sameSite: 'strict' }, clock: () => 0 })
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
const header: string | null = formatSetCookie({ name: 'sid', secure: false }, token, 60)
const config = new CookieConfig({ name: 'sid', secure: true, sameSite: 'none' })
const set: string | null = config.setCookie(token, 60_000)
const clear: string = config.clearCookie()
const cookieName: string = config.name
const idle: number = resolveOptions().idleTimeoutMs
const mw: session.Middleware = session({ secret: ['a', Buffer.from('b')], cookie: { maxAge: 1000, secure: 'auto' }, rolling: true })
const store = new session.SessileStore({ capacity: 100, principal: (s) => (typeof s.uid === 'string' ? s.uid : undefined) })
store.get?.('sid', () => undefined)
void [data, n, header, set, clear, cookieName, idle, mw]
