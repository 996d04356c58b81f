/**
 * Row 7, ReDoS and config abuse: configs that would hang or exhaust a callout are refused
 * at load (exit 1 with one message naming the problem, in seconds, no stack trace), and
 * operator patterns that are accepted match in bounded time.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvoyClient } from "@llm-callouts/envoy-emulator";
import {
  type CaseResult,
  cliPath,
  count,
  emptyTally,
  type Form,
  freePort,
  type Outcome,
  type RowResult,
  spawnService,
  suiteServerConfig,
  timed,
  underWitness,
  withDeadline,
} from "../harness.js";

/** A YAML "billion laughs": `levels` levels of 10 aliases each (10^levels nodes if expanded). */
export function billionLaughs(levels = 9): string {
  const lines = ['a0: &a0 ["lol"]'];
  for (let i = 1; i <= levels; i++) {
    lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(", ")}]`);
  }
  return lines.join("\n");
}

interface LoadCase {
  readonly name: string;
  readonly service: string;
  /** The whole config file. */
  readonly config: string;
  /** The error output must match this. */
  readonly message: RegExp;
}

const guardrailWith = (template: string) => `${suiteServerConfig}service:\n  templates:\n    default:\n${template}`;

function loadCases(): LoadCase[] {
  return [
    {
      name: "YAML billion laughs in the service config",
      service: "guardrail",
      config: `${suiteServerConfig}service:\n  laughs:\n${billionLaughs()
        .split("\n")
        .map((l) => `    ${l}`)
        .join("\n")}\n`,
      message: /alias/i,
    },
    {
      name: "YAML nested 100,000 deep",
      service: "body-router",
      config: `${suiteServerConfig}service:\n  deep: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
      message: /config/i,
    },
    {
      name: "custom pattern with a backreference (not RE2)",
      service: "guardrail",
      config: guardrailWith(
        '      customPatterns:\n        patterns:\n          - name: backref\n            pattern: "(a+)\\\\1"\n',
      ),
      message: /customPatterns\[0\]/,
    },
    {
      name: "custom pattern with lookahead (not RE2)",
      service: "guardrail",
      config: guardrailWith(
        '      customPatterns:\n        patterns:\n          - name: look\n            pattern: "a(?=b)"\n',
      ),
      message: /customPatterns\[0\]/,
    },
    {
      name: "custom pattern of 10,000 characters",
      service: "guardrail",
      config: guardrailWith(
        `      customPatterns:\n        patterns:\n          - name: long\n            pattern: "${"a".repeat(10_000)}"\n`,
      ),
      message: /pattern/,
    },
    {
      name: "term list of 200,000 terms",
      service: "guardrail",
      config: guardrailWith(
        `      responsibleAi:\n        termLists:\n          - category: huge\n            terms: [${Array.from({ length: 200_000 }, (_, i) => `t${i}x`).join(", ")}]\n`,
      ),
      message: /200000 terms; at most 10000 per template/,
    },
  ];
}

/** Runs `callouts serve` on a bad config: it must exit 1 within `deadlineMs`, naming the problem on one line. */
async function refusedAtLoad(c: LoadCase, deadlineMs: number): Promise<{ outcome: Outcome; detail: string }> {
  const file = join(mkdtempSync(join(tmpdir(), "callouts-faults-config-")), "config.yaml");
  writeFileSync(file, c.config);
  const child = spawn(
    process.execPath,
    [cliPath, "serve", c.service, "--host", "127.0.0.1", "--port", String(await freePort()), "--admin-port", "0"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CALLOUTS_CONFIG: file } },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const started = performance.now();
  const exit = await withDeadline(once(child, "exit"), deadlineMs);
  const ms = performance.now() - started;
  if (exit === "hung") {
    child.kill("SIGKILL");
    return { outcome: "hung", detail: `no exit after ${deadlineMs} ms` };
  }
  const [code] = exit as [number | null];
  const firstLine = output.trim().split("\n").slice(0, 2).join(" ").replace(/\s+/g, " ");
  const clean = code === 1 && c.message.test(output) && !/\n\s+at /.test(output);
  return {
    outcome: clean ? "answered" : "errored",
    detail: `exit ${code} after ${ms.toFixed(0)} ms: ${firstLine.slice(0, 160)}`,
  };
}

/** An accepted pattern that backtracking engines explode on: it must match in bounded time (RE2). */
async function boundedPattern(form: Form): Promise<RowResult> {
  // The catastrophic pattern and the largest term list a template may have, both inspect-only.
  const terms = Array.from({ length: 10_000 }, (_, i) => `term${i}x`).join(", ");
  const config = guardrailWith(
    '      customPatterns:\n        patterns:\n          - name: evil\n            pattern: "(a+)+$"\n            action: inspect\n' +
      `      responsibleAi:\n        action: inspect\n        termLists:\n          - category: big\n            terms: [${terms}]\n`,
  );
  const proc = await spawnService("guardrail", { config });
  const client = createEnvoyClient(`127.0.0.1:${proc.port}`);
  try {
    return await underWitness("7. ReDoS and config abuse", proc, async () => {
      const inputs = [
        // "aaaa...a!" is the catastrophic input for (a+)+$ in a backtracking engine.
        { name: "accepted pattern (a+)+$ on 64 KiB of 'a' then '!'", content: `${"a".repeat(64 * 1024)}!` },
        {
          name: "accepted 10,000-term list on 256 KiB of prose",
          content: "lorem ipsum dolor sit amet ".repeat(10_000).slice(0, 256 * 1024),
        },
      ];
      const results: CaseResult[] = [];
      for (const input of inputs) results.push(await timed(() => timedRequests(input.name, input.content)));
      return results;
    });
  } finally {
    client.close();
    await proc.stop();
  }

  async function timedRequests(name: string, content: string): Promise<CaseResult> {
    const tally = emptyTally();
    let worst = 0;
    for (let i = 0; i < (form === "full" ? 20 : 3); i++) {
      const started = performance.now();
      const result = await client.exchange(
        { processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SKIP" }, messageTimeoutMs: 10_000 },
        {
          request: {
            headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" },
            body: [JSON.stringify({ model: "m", messages: [{ role: "user", content }] })],
          },
        },
      );
      const ms = performance.now() - started;
      worst = Math.max(worst, ms);
      count(
        tally,
        result.error ? (result.error.kind === "timeout" ? "hung" : "errored") : ms < 2000 ? "answered" : "errored",
      );
    }
    return {
      name,
      expected: "bounded: every request under 2 s",
      tally,
      detail: `slowest request ${worst.toFixed(0)} ms`,
    };
  }
}

export async function configAbuseRow(form: Form): Promise<RowResult> {
  const started = performance.now();
  const cases: CaseResult[] = [];
  for (const c of loadCases()) {
    cases.push(
      await timed(async () => {
        const tally = emptyTally();
        const { outcome, detail } = await refusedAtLoad(c, 15_000);
        count(tally, outcome);
        return { name: `${c.name} (${c.service})`, expected: "exit 1 naming the problem, no stack", tally, detail };
      }),
    );
  }
  const runtime = await boundedPattern(form);
  return {
    ...runtime,
    cases: [...cases, ...runtime.cases],
    durationMs: performance.now() - started,
  };
}
