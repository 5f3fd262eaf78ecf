'use strict'
// `require('sessile/express')`: the express-session compatibility layer
// (lib/express-session/; its README says which rules there are express-session's).
module.exports = require('./lib/express-session')
