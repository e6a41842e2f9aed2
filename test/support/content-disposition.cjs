/**
 * content-disposition for jest's runtime, which cannot require() an ES module: @fastify/static (loaded by
 * Mercurius) requires version 3, an ES module only. This is the CommonJS build of version 2 (Express 5's,
 * in the root node_modules), which has version 3's API (`create`, `parse`), and is callable as version 1's
 * `contentDisposition(filename, options)`, which the Nest 11 leg's Express (5.2, `^1.0.0`) calls.
 */
const { create, parse } = require('../../node_modules/content-disposition');

module.exports = Object.assign((filename, options) => create(filename, options), { create, parse });
