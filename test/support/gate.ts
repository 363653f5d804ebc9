/**
 * A point where a patched method stops, so a test can interleave another request exactly:
 * `pass()` (in the method) arrives and waits; `reached` resolves on arrival; `open()` lets it on.
 */
export interface Gate {
  readonly reached: Promise<void>;
  pass(): Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let arrive!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((r) => (arrive = r));
  const opened = new Promise<void>((r) => (open = r));
  return {
    reached,
    open,
    async pass() {
      arrive();
      await opened;
    },
  };
}
