import { useEffect, useRef } from 'react';
import { isModalOpen } from './modalStack';
import { isTextEntry, matchesCombo, parseCombo } from './shortcut';

export interface ShortcutOptions {
  /** Off while false (for example while a dialog covers the screen). Default true. */
  enabled?: boolean;
  /** Fire while focus is in a text field too. Default: only for combos with mod (Ctrl/⌘). */
  allowInInputs?: boolean;
  /** Default true. */
  preventDefault?: boolean;
  /** Fire while a modal dialog is open too (for shortcuts that belong to the dialog). Default false. */
  inModal?: boolean;
}

/**
 * Calls `handler` when one of `combos` is pressed anywhere in the window.
 * The handler may change between renders without re-subscribing.
 */
export function useShortcut(combos: string | readonly string[], handler: (e: KeyboardEvent) => void, options: ShortcutOptions = {}): void {
  const { enabled = true, allowInInputs, preventDefault = true, inModal = false } = options;
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const key = typeof combos === 'string' ? combos : combos.join(',');

  useEffect(() => {
    if (!enabled) return;
    const parsed = key.split(',').map(parseCombo);
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing || (!inModal && isModalOpen())) return;
      const hit = parsed.find((c) => matchesCombo(e, c));
      if (!hit) return;
      const inInputsOk = allowInInputs ?? hit.mod;
      if (!inInputsOk && isTextEntry(e.target)) return;
      if (preventDefault) e.preventDefault();
      handlerRef.current(e);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [key, enabled, allowInInputs, preventDefault, inModal]);
}
