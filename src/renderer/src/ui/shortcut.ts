// Keyboard shortcuts written as combos such as "mod+shift+z", "escape" or "?".
// "mod" is ⌘ on macOS and Ctrl elsewhere, so one combo serves both.

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.userAgent);

export interface Combo {
  key: string;
  mod: boolean;
  shift: boolean;
  alt: boolean;
}

/** The key fields of a KeyboardEvent this module reads. */
export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

const KEY_ALIASES: Record<string, string> = { esc: 'escape', del: 'delete', space: ' ', plus: '+', left: 'arrowleft', right: 'arrowright', up: 'arrowup', down: 'arrowdown' };

export function parseCombo(combo: string): Combo {
  // "mod++" means mod and the plus key: split on "+" that follows a token.
  const parts = combo.toLowerCase().split(/\+(?!$)/);
  const out: Combo = { key: '', mod: false, shift: false, alt: false };
  for (const raw of parts) {
    const part = raw.trim() === '' && raw.length > 0 ? ' ' : raw.trim();
    if (part === 'mod' || part === 'ctrl' || part === 'cmd') out.mod = true;
    else if (part === 'shift') out.shift = true;
    else if (part === 'alt' || part === 'option') out.alt = true;
    else out.key = KEY_ALIASES[part] ?? part;
  }
  if (!out.key) throw new Error(`shortcut "${combo}" names no key`);
  return out;
}

/** Whether a key event is this combo. Shift is ignored for keys that are themselves shifted characters ("?"). */
export function matchesCombo(e: KeyLike, combo: Combo | string, mac = isMac): boolean {
  const c = typeof combo === 'string' ? parseCombo(combo) : combo;
  const mod = mac ? e.metaKey : e.ctrlKey;
  const otherMod = mac ? e.ctrlKey : e.metaKey;
  if (mod !== c.mod || otherMod || e.altKey !== c.alt) return false;
  const key = e.key.toLowerCase();
  const symbol = c.key.length === 1 && !/[a-z0-9]/.test(c.key);
  if (!symbol && e.shiftKey !== c.shift) return false;
  return key === c.key;
}

const KEY_NAMES: Record<string, string> = {
  escape: 'Esc',
  ' ': 'Space',
  arrowleft: '←',
  arrowright: '→',
  arrowup: '↑',
  arrowdown: '↓',
  delete: 'Del',
  backspace: '⌫',
  enter: '↵',
  home: 'Home',
  end: 'End',
  tab: 'Tab'
};

/** How a combo is printed in tooltips, menus and buttons: "Ctrl+Shift+Z" or "⇧⌘Z". */
export function formatShortcut(combo: string, mac = isMac): string {
  const c = parseCombo(combo);
  const key = KEY_NAMES[c.key] ?? (c.key.length === 1 ? c.key.toUpperCase() : c.key[0]!.toUpperCase() + c.key.slice(1));
  if (mac) return `${c.alt ? '⌥' : ''}${c.shift ? '⇧' : ''}${c.mod ? '⌘' : ''}${key}`;
  return [c.mod ? 'Ctrl' : '', c.alt ? 'Alt' : '', c.shift ? 'Shift' : '', key].filter(Boolean).join('+');
}

/** True when typing into this element should not trigger single-key shortcuts. */
export function isTextEntry(target: EventTarget | null): boolean {
  // Read structurally, so this module also type-checks (and is tested) without the DOM library.
  const el = target as { tagName?: unknown; isContentEditable?: boolean; type?: string } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  if (el.tagName !== 'INPUT') return false;
  return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'color', 'file'].includes(el.type ?? 'text');
}
