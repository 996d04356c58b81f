import type { Logger } from "@llm-callouts/ext-proc";

/** A pino-shaped logger that keeps every record as a JSON line, at every level, for assertions on logs. */
export function createRecordingLogger(): { readonly log: Logger; readonly lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: object): Logger => {
    const write = (level: string) => (fields: unknown, message?: string) => {
      lines.push(
        JSON.stringify(
          { level, ...bindings, ...(typeof fields === "object" ? fields : { fields }), message },
          errorReplacer,
        ),
      );
    };
    const logger = {
      level: "trace",
      trace: write("trace"),
      debug: write("debug"),
      info: write("info"),
      warn: write("warn"),
      error: write("error"),
      fatal: write("fatal"),
      isLevelEnabled: () => true,
      child: (more: object) => make({ ...bindings, ...more }),
    };
    return logger as unknown as Logger;
  };
  return { log: make({}), lines };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { message: value.message, stack: value.stack } : value;
}
