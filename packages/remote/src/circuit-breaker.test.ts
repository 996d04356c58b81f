import { describe, expect, it } from "vitest";
import { createCircuitBreaker } from "./circuit-breaker.js";

describe("createCircuitBreaker()", () => {
  it("opens after the failure threshold and rejects calls during the cooldown", () => {
    let time = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 2, cooldownMs: 100, now: () => time });
    breaker.failure();
    expect(breaker.state()).toBe("closed");
    breaker.failure();
    expect(breaker.state()).toBe("open");
    expect(breaker.allow()).toBe(false);
    time = 99;
    expect(breaker.allow()).toBe(false);
  });

  it("lets one trial call through after the cooldown and closes on success", () => {
    let time = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: () => time });
    breaker.failure();
    time = 100;
    expect(breaker.state()).toBe("half-open");
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false);
    breaker.success();
    expect(breaker.state()).toBe("closed");
    expect(breaker.allow()).toBe(true);
  });

  it("reopens when the trial call fails", () => {
    let time = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 100, now: () => time });
    for (let i = 0; i < 3; i++) breaker.failure();
    time = 150;
    expect(breaker.allow()).toBe(true);
    breaker.failure();
    expect(breaker.state()).toBe("open");
    time = 249;
    expect(breaker.allow()).toBe(false);
  });
});
