// Reading a volume kept in a JavaScript Int16Array, for the page's WebAssembly.
// Elements fetched one by one from WebAssembly each cross into JavaScript (~0.1 µs a
// call): a sagittal plane of a 300-slice 512² series took ~17 ms that way.

// Every `step`-th element of `array` from `start`, `count` of them; `noData` past its end.
export function gather(array, start, step, count, noData) {
  const out = new Int16Array(count);
  for (let k = 0, at = start; k < count; k++, at += step) {
    out[k] = at < array.length ? array[at] : noData;
  }
  return out;
}
