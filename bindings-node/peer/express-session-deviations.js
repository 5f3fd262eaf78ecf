'use strict'
// The tests of express-session 1.19.0's suite that fail against sessile/express, by mocha's
// full title, each with its reason (bindings-node/README.md, "express-session's own test
// suite", gives the same). run-express-session.js fails when one of them passes, or when
// another test fails.
const GENID = 'genid is refused with the engine store: session IDs are the engine\'s 256-bit tokens, never chosen by the app (use a custom store for genid)'
const NONE_NEEDS_SECURE = 'SameSite=None without Secure is a cookie browsers reject: with sameSite \'auto\' an HTTPS request gets SameSite=None; Secure'
const PARTITIONED_NEEDS_SECURE = 'Partitioned without Secure is a cookie browsers reject: the core refuses it at setup (SESSILE_CONFIG)'
const MAX_AGE = 'the cookie lifetime is written as Max-Age (relative, so a client clock that is off does not change it), not Expires'

const DEVIATIONS = new Map([
  ['session() should update cookie expiration when slow write', MAX_AGE],
  ['session() when response ended should have saved session with updated cookie expiration', MAX_AGE],
  ['session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "false" should set SameSite=None without Secure when secure', NONE_NEEDS_SECURE],
  ['session() genid option should allow custom function', GENID],
  ['session() genid option should encode unsafe chars', GENID],
  ['session() genid option should provide req argument', GENID],
  ['session() req.session .cookie .* should override defaults', MAX_AGE],
  ['session() req.session .cookie .maxAge should set cookie expires relative to maxAge', MAX_AGE],
  ['session() req.session .cookie .maxAge should modify cookie expires when changed', MAX_AGE],
  ['session() req.session .cookie .maxAge should modify cookie expires when changed to large value', MAX_AGE],
  ['session() req.session .cookie .expires when given a Date should set absolute', MAX_AGE],
  ['session() req.session .cookie .partitioned when "true" should set partitioned attribute', PARTITIONED_NEEDS_SECURE],
])
module.exports = { DEVIATIONS }
