/** Dense ids for strings, so rate windows can count in typed arrays. */
export class StringIds {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }
}

/**
 * One copy of each string kept: a row's comm is decoded into a new string each time, and a trace of many
 * short processes keeps one for each thread. At most `limit` strings are pooled (when every thread has
 * its own name there is nothing to share).
 */
export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly limit = 4096) {}

  /** Strings pooled. */
  get size(): number {
    return this.pool.size;
  }

  get(value: string): string {
    const kept = this.pool.get(value);
    if (kept !== undefined) return kept;
    if (this.pool.size < this.limit) this.pool.set(value, value);
    return value;
  }
}
