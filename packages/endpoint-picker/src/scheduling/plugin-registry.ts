import type { PluginFactory } from "./types.js";

/** Plugin type -> factory. Filled explicitly by `registerBuiltins` (no import side effects). */
export interface PluginRegistry {
  register(type: string, factory: PluginFactory): void;
  get(type: string): PluginFactory | undefined;
  types(): string[];
}

export function createPluginRegistry(): PluginRegistry {
  const factories = new Map<string, PluginFactory>();
  return {
    register(type, factory) {
      if (factories.has(type)) throw new Error(`plugin type "${type}" registered twice`);
      factories.set(type, factory);
    },
    get: (type) => factories.get(type),
    types: () => [...factories.keys()].sort(),
  };
}
