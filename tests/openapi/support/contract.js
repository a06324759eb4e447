'use strict'
// One API's OpenAPI document as a contract that real responses are checked against: the operation a
// request addresses, then the status, the documented headers, the media type and the body of its
// answer. The bodies are checked by openapi-response-validator, the requests a test marks as valid by
// openapi-request-validator (after openapi-request-coercer has turned their query and header strings
// into the documented types); the response headers and media types, which no library of the family
// checks, here.
// Every operation a request addressed is recorded, so that a test can ask which operations of the
// document no request reached.

const fs = require('node:fs')
const OpenAPIRequestCoercer = require('openapi-request-coercer').default
const OpenAPIRequestValidator = require('openapi-request-validator').default
const OpenAPIResponseValidator = require('openapi-response-validator').default
const OpenAPISchemaValidator = require('openapi-schema-validator').default
const Ajv = require('ajv')

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

// The documents refer only to their own components (#/components/...), and none refers to itself,
// so resolving a reference is a lookup; every part is inlined, for the validators and the checks.
function dereference (value, document) {
  if (Array.isArray(value)) return value.map(item => dereference(item, document))
  if (value === null || typeof value !== 'object') return value
  if (typeof value.$ref === 'string') {
    const target = value.$ref.replace(/^#\//, '').split('/')
      .reduce((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document)
    if (target === undefined) throw new Error(`unresolved reference ${value.$ref}`)
    return dereference(target, document)
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, dereference(item, document)]))
}

// "text/plain; version=0.0.4; charset=utf-8" → "text/plain"
const essence = contentType => (contentType || '').split(';')[0].trim().toLowerCase()

function mediaTypeMatches (range, contentType) {
  const [type, subtype] = range.toLowerCase().split('/')
  const [actualType, actualSubtype] = essence(contentType).split('/')
  return (type === '*' || type === actualType) && (subtype === '*' || subtype === actualSubtype)
}

const isJson = contentType => /^application\/(.+\+)?json$/.test(essence(contentType))

class Contract {
  // `file`: the document; `catchAll`: the path template that stands for every path no other
  // template matches (the Events API's `/{path}`, which OpenAPI 3.0 cannot make span segments).
  constructor (file, { catchAll } = {}) {
    this.file = file
    this.text = fs.readFileSync(file, 'utf8')
    this.raw = JSON.parse(this.text)
    const errors = new OpenAPISchemaValidator({ version: 3 }).validate(this.raw).errors
    if (errors.length > 0) throw new Error(`${file} is not a valid OpenAPI 3.0 document: ${JSON.stringify(errors)}`)
    this.document = dereference(this.raw, this.raw)
    this.catchAll = catchAll
    this.templates = Object.keys(this.document.paths)
      .map(template => ({
        template,
        pattern: new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
        parameters: (template.match(/\{/g) || []).length
      }))
      .sort((a, b) => a.parameters - b.parameters) // concrete paths before templated ones, as OpenAPI says
    this.reached = new Set()
    this.ajv = new Ajv({ strict: false, allErrors: true })
  }

  operations () {
    const all = []
    for (const [template, item] of Object.entries(this.document.paths)) {
      for (const method of methods) if (item[method]) all.push({ template, method, operation: item[method], item })
    }
    return all
  }

  // The operation `method` on the request path (raw, without the query) addresses; throws when the
  // document describes none.
  operation (method, path) {
    const lower = method.toLowerCase()
    const matched = this.templates.find(({ pattern }) => pattern.test(path))
    const template = matched ? matched.template : this.catchAll
    const item = template && this.document.paths[template]
    if (!item || !item[lower]) {
      throw new Error(`${this.file} describes no operation ${method} ${path} (path ${template || 'none'})`)
    }
    return { template, method: lower, operation: item[lower], item }
  }

  // Checks an exchange against the document; throws, saying what does not match. `request`:
  // {method, path, headers, body (parsed JSON or text), valid: true when the document must accept
  // the request too}; `response`: {status, headers (a Headers), text}.
  check (request, response) {
    const { template, method, operation, item } = this.operation(request.method, request.path)
    const where = `${request.method} ${request.path} → ${response.status} (${template})`
    const code = String(response.status)
    const documented = operation.responses[code] || operation.responses.default
    if (!documented) {
      throw new Error(`${where}: the document lists no ${code} for this operation (and no default): ${response.text}`)
    }
    this.checkHeaders(where, documented, response.headers)
    this.checkBody(where, operation, documented, request, response)
    if (request.valid) this.checkRequest(where, operation, item, request)
    this.reached.add(`${method.toUpperCase()} ${template}`)
  }

  checkHeaders (where, documented, headers) {
    for (const [name, header] of Object.entries(documented.headers || {})) {
      const value = headers.get(name)
      if (value === null) {
        if (header.required) throw new Error(`${where}: the documented header ${name} is missing`)
        continue
      }
      const schema = header.schema || {}
      const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value
      if (!this.ajv.validate(schema, typed)) {
        throw new Error(`${where}: header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText()}`)
      }
    }
  }

  checkBody (where, operation, documented, request, response) {
    const contentType = response.headers.get('content-type')
    if (!documented.content) {
      if (response.text !== '') throw new Error(`${where}: the document says no body, the gateway sent ${response.text}`)
      return
    }
    if (request.method === 'HEAD') return // the head a GET would get, without the body
    const range = Object.keys(documented.content).find(range => mediaTypeMatches(range, contentType))
    if (!range) {
      throw new Error(`${where}: Content-Type ${contentType} is none of the documented ${Object.keys(documented.content)}`)
    }
    let body = response.text
    if (isJson(contentType)) {
      try { body = JSON.parse(response.text) } catch (error) { throw new Error(`${where}: the body is not JSON: ${response.text}`) }
    }
    // One validator per response, for the media type that matched (the library takes the first).
    const validator = new OpenAPIResponseValidator({
      responses: { [documented === operation.responses.default ? 'default' : String(response.status)]: { schema: documented.content[range].schema } }
    })
    const failure = validator.validateResponse(String(response.status), body)
    if (failure) {
      throw new Error(`${where}: the body does not match the document: ${JSON.stringify(failure.errors)}\n${response.text}`)
    }
  }

  checkRequest (where, operation, item, request) {
    const parameters = [...(item.parameters || []), ...(operation.parameters || [])]
    const validator = new OpenAPIRequestValidator({ parameters, requestBody: operation.requestBody })
    const { template } = this.operation(request.method, request.path)
    const params = {}
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map(match => match[1])
    const values = names.length > 0
      ? (new RegExp('^' + template.replace(/\{[^}]+\}/g, '([^/]+)') + '$').exec(request.path) || []).slice(1)
      : []
    names.forEach((name, index) => { params[name] = decodeURIComponent(values[index] ?? '') })
    if (this.catchAll === template && names.length === 1) params[names[0]] = request.path.slice(1)
    const headers = Object.fromEntries(Object.entries(request.headers || {}).map(([name, value]) => [name.toLowerCase(), value]))
    const checked = { headers, body: request.body, params, query: { ...request.query } }
    new OpenAPIRequestCoercer({ parameters }).coerce(checked)
    const failure = validator.validateRequest(checked)
    if (failure) throw new Error(`${where}: the document refuses this request: ${JSON.stringify(failure.errors)}`)
  }

  // "METHOD /template" of every operation no checked request addressed.
  unreached () {
    return this.operations().map(({ template, method }) => `${method.toUpperCase()} ${template}`)
      .filter(key => !this.reached.has(key))
  }

  // Validates `value` against a schema of the document's components (what functions receive).
  validateSchema (name, value) {
    if (!this.ajv.validate(this.document.components.schemas[name], value)) {
      throw new Error(`not a ${name} of ${this.file}: ${this.ajv.errorsText()}\n${JSON.stringify(value)}`)
    }
  }
}

module.exports = { Contract }
