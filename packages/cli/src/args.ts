/** A command-line mistake: one line on stderr naming the flag, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    /** The command it belongs to ("" for the top level). */
    readonly command: string,
  ) {
    super(message);
  }
}

/** `--help` / `-h` on a command: its usage on stdout, exit 0. */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested";
  constructor(readonly command: string) {
    super(`help for ${command}`);
  }
}

/**
 * Runs one command's strict `parseArgs` (`parse`) with `--help` / `-h` handled first; unknown
 * flags, missing values and stray positionals become a UsageError naming the flag.
 */
export function parseCommandArgs<T>(command: string, args: readonly string[], parse: () => T): T {
  if (args.includes("--help") || args.includes("-h")) throw new HelpRequested(command);
  try {
    return parse();
  } catch (error) {
    // node's messages carry a long hint about '--'; the first sentence names the flag.
    const message = (error as Error).message.split(". ")[0] ?? String(error);
    throw new UsageError(message, command);
  }
}

/** A non-negative number flag, or `fallback` when absent. */
export function numberFlag(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${name} must be a non-negative number, got ${JSON.stringify(value)}`, command);
  }
  return n;
}

/** A zod-style validation error from a library as one UsageError naming the flags (camelCase keys -> --kebab-case). */
export function usageFromIssues(command: string, error: unknown): UsageError | undefined {
  const issues = (error as { name?: string; issues?: { path: PropertyKey[]; message: string }[] }).issues;
  if ((error as { name?: string }).name !== "ZodError" || !Array.isArray(issues)) return undefined;
  const flag = (key: PropertyKey) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return new UsageError(
    issues.map((i) => `${i.path.length > 0 ? flag(i.path[0] as PropertyKey) : "options"}: ${i.message}`).join("; "),
    command,
  );
}
