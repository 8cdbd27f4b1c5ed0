// Worker ids come from the network, so records keyed by them must not consult the prototype:
// an id such as 'constructor' or '__proto__' is an ordinary key here. Lookups use Object.hasOwn,
// writes use computed keys in object literals (which define own properties, never the prototype).

/** Plain-data string-keyed map, serialisable with JSON. */
export type IdRecord<V> = Readonly<Record<string, V>>;

/** The value stored under `key` as an own property, or undefined. */
export function ownValue<V>(record: IdRecord<V>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Whether `key` is an own property of `record`. */
export function hasKey<V>(record: IdRecord<V>, key: string): boolean {
  return Object.hasOwn(record, key);
}

/** A copy of `record` with `key` set to `value`. */
export function withEntry<V>(record: IdRecord<V>, key: string, value: V): IdRecord<V> {
  return { ...record, [key]: value };
}

/** A copy of `record` without `key` (the same object when the key is absent). */
export function withoutEntry<V>(record: IdRecord<V>, key: string): IdRecord<V> {
  if (!Object.hasOwn(record, key)) return record;
  // fromEntries defines own properties; an assignment loop would let '__proto__' set the prototype.
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

/** Number of keys. */
export function sizeOf<V>(record: IdRecord<V>): number {
  return Object.keys(record).length;
}
