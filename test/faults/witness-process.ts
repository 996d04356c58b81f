/**
 * The witness client as its own process (spawned by `startWitness`), so the attacking code's
 * CPU never delays its event loop: one request every WITNESS_INTERVAL_MS to WITNESS_TARGET, a
 * line per outcome on stdout (`ok <start epoch ms> <ms>`, `hung`, `error`), `done` after
 * "stop" arrives on stdin and the requests in flight have settled. It prints `ready` after
 * 50 unreported warm-up requests.
 */
import { createRawClient, roundTrip } from "../bench/raw-client.js";

const target = process.env.WITNESS_TARGET ?? "";
const intervalMs = Number(process.env.WITNESS_INTERVAL_MS ?? 20);
const deadlineMs = Number(process.env.WITNESS_DEADLINE_MS ?? 2000);
const messages = (JSON.parse(process.env.WITNESS_MESSAGES ?? "[]") as string[]).map((m) => Buffer.from(m, "base64"));
const client = createRawClient(target);
const inflight = new Set<Promise<void>>();
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function fire() {
  const at = performance.timeOrigin + performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), deadlineMs);
  });
  const p = Promise.race([roundTrip(client, messages), deadline])
    .then((result) => out(result === "hung" ? "hung" : `ok ${at.toFixed(3)} ${result.toFixed(3)}`))
    .catch(() => out("error"))
    .finally(() => {
      clearTimeout(timer);
      inflight.delete(p);
    });
  inflight.add(p);
}

// Warm-up: connection, JIT of both sides; not reported.
for (let i = 0; i < 50; i++) await roundTrip(client, messages).catch(() => {});
out("ready");
const timer = setInterval(fire, intervalMs);
fire();
process.stdin.setEncoding("utf8");
process.stdin.on("data", async (chunk: string) => {
  if (!chunk.includes("stop")) return;
  clearInterval(timer);
  await Promise.all(inflight);
  client.close();
  out("done");
  process.exit(0);
});
