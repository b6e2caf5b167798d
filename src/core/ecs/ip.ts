// IP literal validation (what Elasticsearch's `convert … type: ip` accepts), without Node's `net`.

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

export function isIPv4(text: string): boolean {
  return text.length <= 15 && IPV4.test(text)
}

/** Number of hex groups in a colon-separated run, -1 when one is not a 1–4 digit hex group. */
function hexGroups(run: string): number {
  if (run === '') return 0
  const groups = run.split(':')
  for (const g of groups) if (!HEX_GROUP.test(g)) return -1
  return groups.length
}

export function isIPv6(text: string): boolean {
  if (text.length < 2 || text.length > 45) return false
  const lastColon = text.lastIndexOf(':')
  if (lastColon === -1) return false
  let head = text
  let ipv4Groups = 0
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    // an embedded IPv4 tail (`::ffff:1.2.3.4`) stands for two groups
    if (!isIPv4(tail)) return false
    ipv4Groups = 2
    head = text.slice(0, lastColon + 1)
    if (!head.endsWith('::')) head = head.slice(0, -1)
  }
  const gap = head.indexOf('::')
  if (gap === -1) {
    const n = hexGroups(head)
    return n >= 0 && n + ipv4Groups === 8
  }
  if (head.indexOf('::', gap + 1) !== -1) return false
  const left = hexGroups(head.slice(0, gap))
  const right = hexGroups(head.slice(gap + 2))
  return left >= 0 && right >= 0 && left + right + ipv4Groups <= 7
}

export function isIp(text: string): boolean {
  return isIPv4(text) || isIPv6(text)
}
