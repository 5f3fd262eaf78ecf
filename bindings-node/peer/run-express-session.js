'use strict'
// express-session's own test suite (1.19.0: test/session.js and test/cookie.js) run
// against sessile/express. Nothing of express-session is kept in this repository: the
// suite is a git checkout of its 1.19.0 commit made by `make tools-node` (mk/node.mk,
// under .tools/peers/, ignored), read from there.
//
// The suite is copied into a temporary folder beside two files that stand where
// express-session's own code would: `index.js` (what `require('../')` gives: sessile/express
// with the migration setting `compat: 'express-session'`, as an app moving from
// express-session would set it) and `session/cookie.js` (sessile/express's Cookie). mocha
// runs it as express-session's `npm test` does (--require test/support/env --check-leaks).
//
// Every test must pass except those in ./express-session-deviations.js, each a difference
// documented in bindings-node/README.md; a listed test that passes fails the run too (the
// list says what sessile/express really does). Prints the counts.
//
// usage: node run-express-session.js [checkout]   (default: <repo>/.tools/peers/express-session-1.19.0)
// PEER_SHOW=1 prints every failure's message. PEER_COMPAT=off runs it without the migration
// setting (sessile's own defaults) and only reports the counts.
const assert = require('node:assert')
const childProcess = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { DEVIATIONS } = require('./express-session-deviations')

const NODE_DIR = path.resolve(__dirname, '..')
const ROOT = path.resolve(NODE_DIR, '..')
const COMMIT = 'c10b2a383841766899f6dcf53c8aff8c7fd3d2e7' // express-session v1.19.0
const compat = process.env.PEER_COMPAT !== 'off'
const checkout = path.resolve(process.argv[2] || path.join(ROOT, '.tools', 'peers', 'express-session-1.19.0'))

function fail(message) {
  console.error(`express-session suite: ${message}`)
  process.exit(1)
}

if (!fs.existsSync(path.join(checkout, 'test', 'session.js'))) {
  fail(`no checkout at ${checkout}: run 'make tools-node' (it fetches express-session ${COMMIT})`)
}
const head = childProcess.execFileSync('git', ['-C', checkout, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
if (head !== COMMIT) fail(`${checkout} is at ${head}, not express-session 1.19.0 (${COMMIT})`)
const dirty = childProcess.execFileSync('git', ['-C', checkout, 'status', '--porcelain', '--', 'test'], { encoding: 'utf8' })
if (dirty !== '') fail(`${checkout}/test differs from the 1.19.0 commit:\n${dirty}`)

let status = 0
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sessile-express-session-'))
try {
  fs.cpSync(path.join(checkout, 'test'), path.join(work, 'test'), { recursive: true })
  const express = JSON.stringify(path.join(NODE_DIR, 'express.js'))
  fs.writeFileSync(
    path.join(work, 'index.js'),
    `'use strict'
// require('express-session') of the suite: sessile/express with express-session's defaults.
const sessile = require(${express})
function session(options) {
  return sessile(Object.assign(${compat ? "{ compat: 'express-session' }" : '{}'}, options))
}
module.exports = Object.assign(session, sessile)
`,
  )
  fs.mkdirSync(path.join(work, 'session'))
  fs.writeFileSync(path.join(work, 'session', 'cookie.js'), `'use strict'\nmodule.exports = require(${express}).Cookie\n`)
  // The packages the suite requires, from bindings-node's devDependencies (express 4 is
  // installed there as `express4`).
  const modules = path.join(work, 'node_modules')
  fs.mkdirSync(modules)
  const links = { express: 'express4', supertest: 'supertest', 'cookie-parser': 'cookie-parser', after: 'after' }
  for (const [name, installed] of Object.entries(links)) {
    fs.symlinkSync(path.join(NODE_DIR, 'node_modules', installed), path.join(modules, name), 'dir')
  }
  // test/support/gencert.sh: the suite's HTTPS server needs a key and certificate.
  const fixtures = path.join(work, 'test', 'fixtures')
  fs.mkdirSync(fixtures, { recursive: true })
  childProcess.execFileSync(
    'openssl',
    ['req', '-x509', '-nodes', '-newkey', 'rsa:2048', '-keyout', path.join(fixtures, 'server.key'), '-out', path.join(fixtures, 'server.crt'), '-days', '3650', '-subj', '/CN=express-session.local'],
    { stdio: 'ignore' },
  )

  const report = path.join(work, 'report.json')
  const mocha = path.join(NODE_DIR, 'node_modules', 'mocha', 'bin', 'mocha.js')
  const run = childProcess.spawnSync(
    process.execPath,
    [mocha, '--require', 'test/support/env', '--check-leaks', '--no-exit', '--reporter', 'json', '--reporter-option', `output=${report}`, 'test/session.js', 'test/cookie.js'],
    { cwd: work, encoding: 'utf8', timeout: 300_000 },
  )
  if (!fs.existsSync(report)) throw new Error(`mocha wrote no report (status ${run.status}):\n${run.stdout}\n${run.stderr}`)
  const result = JSON.parse(fs.readFileSync(report, 'utf8'))

  // Titles are not unique in the suite (two tests share one), so counts come from the lists.
  const title = (t) => t.fullTitle
  const passed = new Set(result.passes.map(title))
  const failed = new Map(result.failures.map((t) => [title(t), t.err && t.err.message]))
  const unexpected = [...failed.keys()].filter((t) => !DEVIATIONS.has(t))
  const fixed = [...DEVIATIONS.keys()].filter((t) => passed.has(t))
  const missing = [...DEVIATIONS.keys()].filter((t) => !passed.has(t) && !failed.has(t))
  const total = result.stats.tests
  const ran = result.passes.length + result.failures.length
  console.log(
    `express-session 1.19.0 suite (test/session.js, test/cookie.js) against sessile/express: ${result.passes.length} of ${total} pass, ${result.failures.length} fail (${DEVIATIONS.size} documented deviations)`,
  )
  if (ran !== total) console.error(`  ${total - ran} tests neither passed nor failed`)
  if (process.env.PEER_SHOW) {
    for (const [t, message] of failed) console.log(`  ${DEVIATIONS.has(t) ? 'deviation' : 'FAIL'}: ${t}\n      ${message}`)
  }
  if (compat) check(unexpected, fixed, missing, failed, result, ran !== total)
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
process.exit(status)

function check(unexpected, fixed, missing, failed, result, uncounted) {
  for (const t of unexpected) console.error(`  unexpected failure: ${t}\n      ${failed.get(t)}`)
  for (const t of fixed) console.error(`  passes, but listed as a deviation: ${t}`)
  for (const t of missing) console.error(`  listed as a deviation, but not in the suite: ${t}`)
  assert.equal(result.stats.pending, 0, 'no test may be skipped')
  if (unexpected.length || fixed.length || missing.length || uncounted) status = 1
}
