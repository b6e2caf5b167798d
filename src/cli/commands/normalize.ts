import type { CliIO } from '../io'

// Placeholder until its issue lands: says so instead of pretending to work.
export async function run(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('atlassian-audit normalize: not implemented yet\n')
  return 1
}
