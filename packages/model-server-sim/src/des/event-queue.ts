/** A binary min-heap of timed events; ties break by insertion order, so runs are deterministic. */
export interface EventQueue<T> {
  push(timeMs: number, event: T): void;
  /** Remove and return the earliest event, or undefined when empty. */
  pop(): { timeMs: number; event: T } | undefined;
  readonly size: number;
}

interface Entry<T> {
  timeMs: number;
  seq: number;
  event: T;
}

/** Creates an empty queue. */
export function createEventQueue<T>(): EventQueue<T> {
  const heap: Entry<T>[] = [];
  let seq = 0;
  const less = (a: Entry<T>, b: Entry<T>) => a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
  return {
    get size() {
      return heap.length;
    },
    push(timeMs, event) {
      const e = { timeMs, seq: seq++, event };
      heap.push(e);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    },
    pop() {
      const top = heap[0];
      if (!top) return undefined;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      return { timeMs: top.timeMs, event: top.event };
    },
  };
}
