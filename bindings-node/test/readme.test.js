'use strict'
// The README's JavaScript snippets run as written, so the quickstart cannot rot.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const Module = require('node:module')

const root = path.join(__dirname, '..')
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])

// 'sessile' is this package; 'express' is the Express 5 devDependency.
const aliases = { sessile: root, 'sessile/express': path.join(root, 'express.js'), express: 'express5' }

test('README has snippets', () => assert.ok(blocks.length >= 3))

blocks.forEach((code, i) => {
  test(`README snippet ${i + 1} runs`, () => {
    const localRequire = Module.createRequire(path.join(root, 'test', 'readme.js'))
    const req = (name) => localRequire(aliases[name] ?? name)
    const warn = console.warn
    console.warn = () => {}
    try {
      new Function('require', code)(req)
    } finally {
      console.warn = warn
    }
  })
})
