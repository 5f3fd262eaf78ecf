// An Express app written as @types/express-session users write theirs, with sessile/express
// in its place. Compiled by `make test-node-types` (tsc --strict, test/types/tsconfig.json):
// the augmentation of SessionData types req.session's data, and sessile's methods are typed.
import express = require('express')
import session = require('sessile/express')
import { Engine, EventRecord } from 'sessile'

declare module 'sessile/express' {
  interface SessionData {
    userId: string
    views: number
    cart: { sku: string; qty: number }[]
  }
}

const engine = new Engine({ capacity: 10_000, maxSessionsPerPrincipal: 5 })
const seen: EventRecord[] = []

const app = express()
const middleware = session({
  secret: ['current secret', 'previous secret'],
  compat: 'express-session',
  engine,
  proxy: true,
  cookie: (req) => ({ maxAge: 3_600_000, sameSite: 'auto', secure: 'auto', path: req.url?.startsWith('/admin') ? '/admin' : '/' }),
  principal: (sess) => (typeof sess.account === 'string' ? sess.account : undefined),
  onEvent: (event) => {
    if (event.alert) seen.push(event)
  },
})
const same: Engine | null = middleware.engine
app.use(middleware)

app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  const views: number = req.session.views
  const id: string = req.sessionID
  res.send(`${views} views, session ${id.length} chars`)
})

app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.userId = 'alice'
    req.session.login('alice', (e) => (e ? next(e) : res.send('hello ' + req.session.userId)))
  })
})

app.post('/cart', (req, res) => {
  const cart = req.session.cart ?? []
  cart.push({ sku: 'A-1', qty: 1 })
  req.session.cart = cart
  req.session.save((err) => res.status(err ? 500 : 200).end())
})

app.post('/logout-everywhere', (req, res) => {
  req.session.logoutEverywhere((err, count) => res.send(err ? 'error' : `${count ?? 0} sessions ended`))
})

app.post('/logout', (req, res) => req.session.logout(() => res.send('bye')))

app.get('/cookie', (req, res) => {
  const maxAge: number | null = req.session.cookie.maxAge
  res.json({ maxAge, expires: req.session.cookie.expires })
})

// Typos and wrong types are compile errors, as with @types/express-session.
app.get('/typos', (req, res) => {
  // @ts-expect-error `view` is not in SessionData
  req.session.view = 1
  // @ts-expect-error views is a number
  req.session.views = 'many'
  // @ts-expect-error login takes the user's ID as a string
  req.session.login(42)
  res.end()
})

// @ts-expect-error compat takes one spelling
session({ secret: 's', compat: 'express-session-1.18' })
// @ts-expect-error onEvent gets one event
session({ secret: 's', onEvent: (a: EventRecord, b: EventRecord) => [a, b] })

void [same, seen]
export = app
