// `atlassian-audit normalize`: raw Atlassian audit records on stdin → ECS documents on stdout, one per line,
// in input order, streaming.
//
// Input is read in one of two modes, chosen from the first non-blank line:
// - lines (NDJSON): every line is one record or one API response page; a broken line becomes one
//   pipeline_error document and the next line starts afresh. This is the mode unless…
// - values: the first line does not parse on its own and ends with `{`, `[` or `,` (a pretty-printed
//   page or record, e.g. `curl … | jq .`, or `jq '.entities[]'` printing one pretty record after another).
//   JSON values are then cut where their brackets balance, so one page or many records both work.
//
// Exit status: 0 every record normalized, 1 some became pipeline_error documents (still written),
// 2 usage error.

import { createInterface } from 'node:readline'
import { normalizeText } from '../../core/ecs/normalize'
import { DEPLOYMENTS, type Deployment, type NormalizeContext, PRODUCTS, type Product } from '../../core/model'
import type { CliIO } from '../io'

const USAGE =
  'usage: atlassian-audit normalize [--product confluence|jira|bitbucket|org] [--deployment cloud|dc] [--no-original]'

class UsageError extends Error {}

export function parseNormalizeArgs(args: string[]): NormalizeContext {
  const ctx: NormalizeContext = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg : arg.slice(0, eq)
    const inline = eq === -1 ? undefined : arg.slice(eq + 1)
    const value = (): string => {
      if (inline !== undefined) return inline
      const next = args[i + 1]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${name} needs a value`)
      i++
      return next
    }
    switch (name) {
      case '--product': {
        const v = value()
        if (!(PRODUCTS as readonly string[]).includes(v)) {
          throw new UsageError(`--product must be one of ${PRODUCTS.join(', ')} (got "${v}")`)
        }
        ctx.product = v as Product
        break
      }
      case '--deployment': {
        const v = value()
        if (!(DEPLOYMENTS as readonly string[]).includes(v)) {
          throw new UsageError(`--deployment must be one of ${DEPLOYMENTS.join(', ')} (got "${v}")`)
        }
        ctx.deployment = v as Deployment
        break
      }
      case '--no-original':
        if (inline !== undefined) throw new UsageError('--no-original takes no value')
        ctx.keepOriginal = false
        break
      default:
        throw new UsageError(`unknown option ${name}`)
    }
  }
  return ctx
}

/** Cuts a stream of pretty-printed JSON values at the points where their brackets balance. */
export class JsonValueSplitter {
  private buffer = ''
  private depth = 0
  private inString = false
  private escaped = false
  private started = false

  /** Feeds one line (without its newline); returns the values it completed. */
  push(line: string): string[] {
    const out: string[] = []
    const text = `${line}\n`
    let from = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (c === 92 /* \ */) this.escaped = true
        else if (c === 34 /* " */) this.inString = false
        continue
      }
      if (c === 34) {
        this.inString = true
        this.started = true
      } else if (c === 123 /* { */ || c === 91 /* [ */) {
        this.depth++
        this.started = true
      } else if (c === 125 /* } */ || c === 93 /* ] */) {
        this.depth--
        if (this.depth <= 0 && this.started) {
          out.push(this.take(text, from, i + 1))
          from = i + 1
        }
      } else if (c === 10 /* \n */) {
        // a scalar on its own line at the top level (`42`, `"x"`) is a value too
        if (this.depth <= 0 && this.started) {
          out.push(this.take(text, from, i))
          from = i + 1
        }
      } else if (c !== 32 && c !== 9 && c !== 13 && c !== 44 /* , between values */) {
        this.started = true
      }
    }
    this.buffer += text.slice(from)
    return out
  }

  /** Whatever is left at the end of the input (an unterminated value), or undefined. */
  end(): string | undefined {
    const rest = this.buffer.trim()
    this.buffer = ''
    return rest === '' ? undefined : rest
  }

  private take(text: string, from: number, to: number): string {
    const value = this.buffer + text.slice(from, to)
    this.buffer = ''
    this.depth = 0
    this.started = false
    return value
  }
}

function looksPrettyPrinted(firstLine: string): boolean {
  const t = firstLine.trim()
  if (!(t.endsWith('{') || t.endsWith('[') || t.endsWith(','))) return false
  return !isJson(t)
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** A first line that is only brackets (`{`, `[`, `[{`) is how every pretty-printer opens a page. */
const OPENING = /^[[{]+$/

/** An output chunk is written once it is this long, so that a page of any size never becomes one string. */
const CHUNK = 1 << 20

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
}

export async function run(args: string[], io: CliIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${USAGE}\n`)
    return 0
  }
  let ctx: NormalizeContext
  try {
    ctx = parseNormalizeArgs(args)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    io.stderr.write(`atlassian-audit normalize: ${e.message} (try --help)\n`)
    return 2
  }

  let failures = 0
  const emit = async (text: string) => {
    const docs = normalizeText(text, ctx)
    let chunk = ''
    for (const doc of docs) {
      if (doc.event.kind === 'pipeline_error') failures++
      chunk += `${JSON.stringify(doc)}\n`
      if (chunk.length >= CHUNK) {
        await write(io.stdout, chunk)
        chunk = ''
      }
    }
    if (chunk !== '') await write(io.stdout, chunk)
  }

  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY })
  let mode: 'unknown' | 'lines' | 'values' = 'unknown'
  const splitter = new JsonValueSplitter()
  // A first line that opens a value without closing it is a pretty-printed page, or one broken NDJSON line
  // (`{"entities":[{` cut off). The next line tells: on its own it is a whole record only in NDJSON, and then the
  // broken line is one pipeline_error and the others are normalized, instead of one error holding everything.
  let first: string | undefined
  const start = async (m: 'lines' | 'values', line: string) => {
    mode = m
    if (m === 'lines') await emit(line)
    else for (const value of splitter.push(line)) await emit(value)
  }
  for await (const line of lines) {
    if (mode === 'unknown') {
      const t = line.trim()
      if (t === '') continue
      if (first === undefined) {
        if (!looksPrettyPrinted(t)) mode = 'lines'
        else if (OPENING.test(t)) mode = 'values'
        else {
          first = line
          continue
        }
      } else {
        await start(t.startsWith('{') && t.endsWith('}') && isJson(t) ? 'lines' : 'values', first)
        first = undefined
      }
    }
    if (mode === 'lines') {
      if (line.trim() !== '') await emit(line)
    } else {
      for (const value of splitter.push(line)) await emit(value)
    }
  }
  if (first !== undefined) await emit(first)
  const rest = splitter.end()
  if (rest !== undefined) await emit(rest)
  return failures > 0 ? 1 : 0
}
