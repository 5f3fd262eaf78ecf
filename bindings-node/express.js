'use strict'
// `require('sessile/express')`: the express-session compatibility layer, which lives in
// lib/express-session/.
module.exports = require('./lib/express-session')
