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
  return {
    get: (name) => list.find(([n]) => n === name.toLowerCase())?.[1],
    getAll: (name) => list.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v),
    has: (name) => list.some(([n]) => n === name.toLowerCase()),
    get size() {
      return list.length;
    },
    toRecord() {
      const record: Record<string, string> = {};
      for (const [n, v] of list) record[n] = n in record ? `${record[n]}, ${v}` : v;
      return record;
    },
    [Symbol.iterator]: () => list[Symbol.iterator](),
  };
}

/** Normalises a HeaderInput (or any iterable of pairs) to a list of pairs. */
export function toHeaderList(input: HeaderInput | Iterable<Header>): Header[] {
  if (isIterable(input)) return [...input];
  return Object.entries(input as Record<string, string>);
}

function isIterable(value: unknown): value is Iterable<Header> {
  return typeof (value as Iterable<Header>)[Symbol.iterator] === "function";
}
