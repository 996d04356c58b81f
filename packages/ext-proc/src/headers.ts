/** One HTTP header as plain data; names are lower-case. */
export type Header = readonly [name: string, value: string];

/** Headers given to a mutation: a record (one value per name) or a list. */
export type HeaderInput = Readonly<Record<string, string>> | readonly Header[];

/** Read-only view of a header list as Envoy sent it (names lower-cased). */
export interface HeaderMap extends Iterable<Header> {
  /** First value of `name`, or undefined. */
  get(name: string): string | undefined;
  /** All values of `name`, in order. */
  getAll(name: string): string[];
  has(name: string): boolean;
  readonly size: number;
  /** Plain record; repeated names are joined with ", " as HTTP allows. */
  toRecord(): Record<string, string>;
}

/** Builds a HeaderMap; names are lower-cased. */
export function createHeaderMap(entries: Iterable<Header> | HeaderInput = []): HeaderMap {
  const list: Header[] = [];
  for (const [name, value] of toHeaderList(entries as HeaderInput)) list.push([name.toLowerCase(), value]);
  return new ListHeaderMap(list);
}

/** A HeaderMap over pairs whose names are already lower-case (the list is kept, not copied). */
export function headerMapOfLowerCase(list: Header[]): HeaderMap {
  return new ListHeaderMap(list);
}

// A class, not an object of closures: one allocation per map (headers are read on every stream).
class ListHeaderMap implements HeaderMap {
  constructor(private readonly list: readonly Header[]) {}

  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, v] of this.list) if (n === key) return v;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (const [n, v] of this.list) if (n === key) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return this.list.length;
  }

  toRecord(): Record<string, string> {
    const record: Record<string, string> = {};
    for (const [n, v] of this.list) record[n] = n in record ? `${record[n]}, ${v}` : v;
    return record;
  }

  [Symbol.iterator](): Iterator<Header> {
    return this.list[Symbol.iterator]();
  }
}

/** Normalises a HeaderInput (or any iterable of pairs) to a list of pairs. */
export function toHeaderList(input: HeaderInput | Iterable<Header>): Header[] {
  if (isIterable(input)) return [...input];
  return Object.entries(input as Record<string, string>);
}

function isIterable(value: unknown): value is Iterable<Header> {
  return typeof (value as Iterable<Header>)[Symbol.iterator] === "function";
}
