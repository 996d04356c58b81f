// Test-only preload for the soak (node --expose-gc --require this): a full garbage collection on
// SIGUSR2, so RSS can be sampled after a collection instead of at a random point of V8's cycle.
process.on("SIGUSR2", () => globalThis.gc?.());
