// Small hooks the three pages share.
import { useEffect, useRef, useState } from 'preact/hooks'

/** `value`, but only after it stopped changing for `ms` (typing in a search field). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

/** Calls `fn` every `ms` while mounted (and once at once); a changed `ms` restarts the timer. */
export function useInterval(fn: () => void, ms: number): void {
  const saved = useRef(fn)
  saved.current = fn
  useEffect(() => {
    saved.current()
    const timer = setInterval(() => saved.current(), ms)
    return () => clearInterval(timer)
  }, [ms])
}
