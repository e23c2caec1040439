// Recording and trace conversion allocate large short-lived buffers faster than V8 collects them on its
// own; a full collection every few batches keeps gpo's peak memory bounded (measured on a 5 M syscall
// storm: peak RSS varied from 210 to 480 MB without it).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** V8's gc(), exposed the first time it is needed (not at import: importing gpo changes no V8 flag). */
function collector(): () => void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  return gc;
}

/** Returns a function that runs a full collection on every nth call (minor collections alone let RSS
 * grow by 80 MB more on a syscall storm). */
export function collectEvery(n: number): () => void {
  let calls = 0;
  return () => {
    if (++calls % n !== 0) return;
    collector()();
  };
}
