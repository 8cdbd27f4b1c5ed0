/**
 * Element-wise equality of two typed arrays. vitest's `toEqual` walks typed arrays
 * as generic objects, which takes seconds for a few hundred images.
 */
export function sameElements(
  a: ArrayLike<number> & { readonly length: number },
  b: ArrayLike<number> & { readonly length: number },
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Largest and smallest element of a typed array, without spreading it onto the stack. */
export function extent(values: Iterable<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}
