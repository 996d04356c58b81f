/** Starts N simulator replicas (what `callouts sim --replicas N --base-port P` runs). */
import { type SimPoolConfigInput, simPoolConfigSchema } from "./config.js";
import { type SimulatorHandle, startSimulator } from "./simulator.js";

export interface SimPoolHandle {
  /** One `http://host:port` per replica, in replica order. */
  readonly urls: readonly string[];
  readonly replicas: readonly SimulatorHandle[];
  close(): Promise<void>;
}

/** Starts `replicas` servers on `basePort + i` (or ephemeral ports when basePort is 0); closes all if one fails. */
export async function startSimPool(input: SimPoolConfigInput = {}): Promise<SimPoolHandle> {
  const { replicas, basePort, ...config } = simPoolConfigSchema.parse(input);
  const started: SimulatorHandle[] = [];
  try {
    for (let i = 0; i < replicas; i++) {
      started.push(await startSimulator({ ...config, port: basePort === 0 ? 0 : basePort + i }));
    }
  } catch (e) {
    await Promise.all(started.map((s) => s.close()));
    throw e;
  }
  return {
    urls: started.map((s) => s.url),
    replicas: started,
    close: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
