// `atlassian-audit`: the Node face of the core. Subcommands live in src/cli/commands/*.ts.
import process from 'node:process'
import * as fetchCmd from './commands/fetch'
import * as normalizeCmd from './commands/normalize'
import * as pushCmd from './commands/push'
import type { CliCommand } from './io'

const COMMANDS: Record<string, CliCommand> = { normalize: normalizeCmd.run, fetch: fetchCmd.run, push: pushCmd.run }

// Defined by the bundler (vite); running the source directly (tsx) has no version.
const VERSION = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : 'dev'

export const USAGE = `atlassian-audit ${VERSION}: collect Atlassian audit records, normalize them to ECS, push them.

Usage:
  atlassian-audit normalize [--product confluence|jira|bitbucket|org] [--deployment cloud|dc] [--no-original]
  atlassian-audit fetch --site URL --product P --deployment D [--auth MODE] [--email ADDRESS] [--org ORG_ID]
                        [--since ISO] [--until ISO] [--state FILE] [--gateway URL]
  atlassian-audit push --collector elasticsearch|splunk-hec|http-ndjson --url URL [--username NAME]
                       [--auth basic|bearer|apikey|splunk|header:NAME] [--data-stream-namespace NS]
                       [--batch-size N] [--gzip]
  atlassian-audit --help | --version

Secrets come from the environment, never from arguments:
  ATLASSIAN_TOKEN   API token, PAT, org API key, or (--auth session) the Cookie header value (fetch)
  COLLECTOR_TOKEN   password, token or API key of the collector (push)
`

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE)
    return cmd === undefined ? 2 : 0
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  const command = COMMANDS[cmd]
  if (!command) {
    process.stderr.write(`atlassian-audit: unknown command "${cmd}" (try --help)\n`)
    return 2
  }
  return command(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env })
}

// A reader that stops early (`… | head`) closes the pipe: stop quietly, as other command-line tools do, instead
// of a stack trace. (fetch --state: the page being written is not committed, so the next run sends it again.)
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0)
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`atlassian-audit: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
