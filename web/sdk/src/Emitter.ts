/** A small typed event emitter: `Events` maps each event name to its listener's argument. */
export class Emitter<Events extends object> {
  private listeners = new Map<keyof Events, Set<(value: never) => void>>();

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (value: never) => void);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): void {
    this.listeners.get(event)?.delete(listener as (value: never) => void);
  }

  /** Calls every listener; one that throws does not keep the others from running. */
  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (v: Events[K]) => void)(value);
      } catch (error) {
        console.error(`meeting-sdk: a "${String(event)}" listener failed`, error);
      }
    }
  }
}
