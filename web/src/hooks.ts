// Small React helpers: load data for a key and reload it on demand or on a live event.
import { useCallback, useEffect, useRef, useState } from "react";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (data: T | null) => void;
}

/**
 * Runs `load` when `deps` change or `reload` is called, and keeps the data while reloading. When
 * `deps` change the old data is dropped (it described something else), unless `keep` is set: a
 * list being filtered stays on screen, so the row that has the focus keeps it.
 */
export function useLoad<T>(load: (() => Promise<T>) | null, deps: unknown[], keep = false): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const depsKey = JSON.stringify(deps);
  const previousKey = useRef(depsKey);
  useEffect(() => {
    if (previousKey.current !== depsKey) {
      previousKey.current = depsKey;
      if (!keep) setData(null);
    }
    if (!load) return;
    const mine = ++generation.current;
    setLoading(true);
    load()
      .then((value) => {
        if (mine === generation.current) {
          setData(value);
          setError(null);
        }
      })
      .catch((caught: unknown) => {
        if (mine === generation.current) setError(caught);
      })
      .finally(() => {
        if (mine === generation.current) setLoading(false);
      });
  }, [depsKey, tick, load === null]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, reload, setData };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Re-renders every `ms` so countdowns and "composing" indicators age on their own. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}
