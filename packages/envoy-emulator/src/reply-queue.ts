import type { ProcessingResponse } from "@llm-callouts/proto/gen/envoy/service/ext_proc/v3/external_processor_pb";

/** What waiting for the next server message can yield. */
export type Next =
  | { readonly kind: "message"; readonly message: ProcessingResponse; readonly size: number }
  | { readonly kind: "closed" }
  | { readonly kind: "error"; readonly code: number; readonly details: string }
  | { readonly kind: "timeout" };

/** Buffers server messages of one stream so the driver can await them in order. */
export class ReplyQueue {
  private readonly items: Next[] = [];
  private waiter: ((next: Next) => void) | undefined;
  private terminal: Next | undefined;

  push(message: ProcessingResponse, size: number): void {
    this.deliver({ kind: "message", message, size });
  }

  close(): void {
    this.terminal ??= { kind: "closed" };
    this.deliver(this.terminal);
  }

  fail(code: number, details: string): void {
    this.terminal ??= { kind: "error", code, details };
    this.deliver(this.terminal);
  }

  /** Next message, or the terminal state, or a timeout after `timeoutMs` (undefined = wait forever). */
  next(timeoutMs: number | undefined): Promise<Next> {
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    if (this.terminal) return Promise.resolve(this.terminal);
    return new Promise<Next>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.waiter = (next) => {
        clearTimeout(timer);
        resolve(next);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiter = undefined;
          resolve({ kind: "timeout" });
        }, timeoutMs);
      }
    });
  }

  private deliver(next: Next): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(next);
    } else if (next.kind === "message") {
      this.items.push(next);
    }
  }
}
