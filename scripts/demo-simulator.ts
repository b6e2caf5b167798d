// The Atlassian simulator for `npm run demo` (run with tsx): starts it with its default, realistic data
// (a few hundred records per product over the last ten days), writes one JSON line describing it to stdout
// for scripts/demo.mjs, and runs until stdin closes or it receives SIGINT/SIGTERM.
// The credentials in that line are the simulator's own invented ones; they go to the parent over the pipe.
import { startFakeAtlassian } from '../test/fake-atlassian/server'

const sim = await startFakeAtlassian({ seed: 7 })
process.stdout.write(
  `${JSON.stringify({
    url: sim.url,
    sites: sim.sites,
    gatewayUrl: sim.gatewayUrl,
    orgId: sim.orgId,
    credentials: { email: sim.credentials.email, apiToken: sim.credentials.apiToken, pat: sim.credentials.pat },
  })}\n`,
)

let closing = false
const stop = async () => {
  if (closing) return
  closing = true
  await sim.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
