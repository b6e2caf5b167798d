// Runs the Atlassian simulator until killed:  npx tsx test/fake-atlassian/cli.ts [--port N] [--seed N]
//   [--volume N] [--org-rate N] [--expired auto|401|302|html] [--json]
// Prints the site URLs and the simulator's (fake) credentials; --json prints them as one JSON line.

import { type ExpiredSessionMode, startFakeAtlassian } from './server'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const port = Number(arg('port') ?? 0)
const seed = Number(arg('seed') ?? 1)
const volumeArg = arg('volume')
const volume = volumeArg === undefined ? undefined : Number(volumeArg)
const orgRate = arg('org-rate')
const fa = await startFakeAtlassian({
  port,
  seed,
  volume:
    volume === undefined
      ? undefined
      : { cloud: volume, 'confluence-dc': volume, 'jira-dc': volume, 'bitbucket-dc': volume, org: volume },
  orgEventsPerMinute: orgRate === undefined ? undefined : Number(orgRate),
  expiredSession: arg('expired') as ExpiredSessionMode | undefined,
})

const info = {
  url: fa.url,
  sites: Object.fromEntries(Object.entries(fa.sites).map(([k, v]) => [k, v.baseUrl])),
  gatewayUrl: fa.gatewayUrl,
  cloudId: fa.cloudId,
  orgId: fa.orgId,
  credentials: fa.credentials,
}
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(info)}\n`)
else {
  const lines = [
    `Atlassian simulator listening on ${fa.url} (seed ${seed})`,
    `  Cloud site        ${fa.sites.cloud.baseUrl}   (login: ${fa.sites.cloud.baseUrl}/login?user=admin)`,
    `  Confluence DC     ${fa.sites['confluence-dc'].baseUrl}`,
    `  Jira DC           ${fa.sites['jira-dc'].baseUrl}`,
    `  Bitbucket DC      ${fa.sites['bitbucket-dc'].baseUrl}`,
    `  Gateway           ${fa.gatewayUrl}   cloudId ${fa.cloudId}   orgId ${fa.orgId}`,
    'Simulator credentials (fake, valid only on this simulator):',
    ...Object.entries(fa.credentials).map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    fa.close().then(() => process.exit(0))
  })
}
