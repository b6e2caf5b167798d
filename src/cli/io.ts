// What a CLI command gets from the outside world; tests pass their own streams and environment.
export interface CliIO {
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: Record<string, string | undefined>
}

/** A subcommand: parses its own arguments, returns the process exit code (0 ok, 1 failure, 2 usage). */
export type CliCommand = (args: string[], io: CliIO) => Promise<number>
