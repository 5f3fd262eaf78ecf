'use strict'
// `npm pack` / `npm publish`: copy the repository's licence files and changelog into the
// package folder, so the tarball ships them (npm leaves symlinks out of a tarball). The
// copies are ignored by git. Outside a checkout (a package unpacked from a tarball) they
// are already there and are left as they are.
const fs = require('node:fs')
const path = require('node:path')

const pkg = path.join(__dirname, '..')
const root = path.join(pkg, '..')
for (const name of ['LICENSE-MIT', 'LICENSE-APACHE', 'CHANGELOG.md']) {
  const from = path.join(root, name)
  if (fs.existsSync(from)) {
    fs.copyFileSync(from, path.join(pkg, name))
  } else if (!fs.existsSync(path.join(pkg, name))) {
    throw new Error(`${name} is neither in the package nor at ${root}`)
  }
}
