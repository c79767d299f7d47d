import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatEta, formatLoss, formatSeconds, plural } from '../../src/renderer/src/ui/format';
import { clampToStep, decimalsOf, percentOf } from '../../src/renderer/src/ui/numbers';
import { dirName, siblingPath, stem } from '../../src/renderer/src/ui/paths';
import { isModalOpen, isTopModal, pushModal, removeModal } from '../../src/renderer/src/ui/modalStack';
import { formatShortcut, isTextEntry, matchesCombo, parseCombo } from '../../src/renderer/src/ui/shortcut';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('shortcuts', () => {
  it('parses combos with modifiers, aliases and the plus key', () => {
    expect(parseCombo('mod+shift+z')).toEqual({ key: 'z', mod: true, shift: true, alt: false });
    expect(parseCombo('Esc')).toEqual({ key: 'escape', mod: false, shift: false, alt: false });
    expect(parseCombo('alt+left')).toEqual({ key: 'arrowleft', mod: false, shift: false, alt: true });
    expect(parseCombo('mod++').key).toBe('+');
    expect(() => parseCombo('mod+shift')).toThrow(/names no key/);
  });

  it('matches mod as Ctrl off macOS and as Cmd on macOS, and nothing extra', () => {
    expect(matchesCombo(key('z', { ctrlKey: true }), 'mod+z', false)).toBe(true);
    expect(matchesCombo(key('z', { metaKey: true }), 'mod+z', false)).toBe(false);
    expect(matchesCombo(key('z', { metaKey: true }), 'mod+z', true)).toBe(true);
    expect(matchesCombo(key('Z', { ctrlKey: true, shiftKey: true }), 'mod+z', false)).toBe(false);
    expect(matchesCombo(key('Z', { ctrlKey: true, shiftKey: true }), 'mod+shift+z', false)).toBe(true);
    expect(matchesCombo(key('z', { ctrlKey: true, altKey: true }), 'mod+z', false)).toBe(false);
    expect(matchesCombo(key('z'), 'mod+z', false)).toBe(false);
  });

  it('ignores Shift for symbol keys that need it ("?")', () => {
    expect(matchesCombo(key('?', { shiftKey: true }), '?', false)).toBe(true);
    expect(matchesCombo(key('Escape'), 'escape', false)).toBe(true);
  });

  it('prints combos the way each platform does', () => {
    expect(formatShortcut('mod+shift+z', false)).toBe('Ctrl+Shift+Z');
    expect(formatShortcut('mod+shift+z', true)).toBe('⇧⌘Z');
    expect(formatShortcut('escape', false)).toBe('Esc');
    expect(formatShortcut('alt+arrowleft', false)).toBe('Alt+←');
    expect(formatShortcut('mod+enter', true)).toBe('⌘↵');
  });

  it('treats text inputs but not buttons or sliders as text entry', () => {
    expect(isTextEntry({ tagName: 'INPUT', type: 'text', isContentEditable: false } as unknown as EventTarget)).toBe(true);
    expect(isTextEntry({ tagName: 'INPUT', type: 'range', isContentEditable: false } as unknown as EventTarget)).toBe(false);
    expect(isTextEntry({ tagName: 'TEXTAREA', isContentEditable: false } as unknown as EventTarget)).toBe(true);
    expect(isTextEntry({ tagName: 'DIV', isContentEditable: true } as unknown as EventTarget)).toBe(true);
    expect(isTextEntry({ tagName: 'BUTTON', isContentEditable: false } as unknown as EventTarget)).toBe(false);
    expect(isTextEntry(null)).toBe(false);
  });
});

describe('formatting', () => {
  it('formats ETAs by magnitude', () => {
    expect(formatEta(null)).toBe('');
    expect(formatEta(0.2)).toBe('1 s left');
    expect(formatEta(42.4)).toBe('42 s left');
    expect(formatEta(150)).toBe('3 min left');
    expect(formatEta(5400)).toBe('1.5 h left');
    expect(formatEta(Infinity)).toBe('');
  });

  it('formats durations as m:ss.t and h:mm:ss', () => {
    expect(formatDuration(4.24)).toBe('0:04.2');
    expect(formatDuration(59.96)).toBe('1:00.0');
    expect(formatDuration(750)).toBe('12:30.0');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(-1)).toBe('–');
  });

  it('formats seconds, bytes, losses and counts', () => {
    expect(formatSeconds(2.5)).toBe('2.5');
    expect(formatSeconds(1 / 30)).toBe('0.03');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatBytes(250_000)).toBe('250 KB');
    expect(formatLoss(0.123456)).toBe('0.123');
    expect(formatLoss(0.00001234)).toBe('1.23e-5');
    expect(formatLoss(NaN)).toBe('–');
    expect(plural(1, 'frame')).toBe('1 frame');
    expect(plural(1200, 'frame')).toBe('1,200 frames');
  });
});

describe('numbers', () => {
  it('snaps to the step and clamps', () => {
    expect(clampToStep(1.234, 0, 3, 0.05)).toBe(1.25);
    expect(clampToStep(7, 0, 3, 0.05)).toBe(3);
    expect(clampToStep(-2, -1, 1, 0.5)).toBe(-1);
    expect(clampToStep(12, 10, 20, 3)).toBe(13);
    expect(decimalsOf(1)).toBe(0);
    expect(decimalsOf(0.05)).toBe(2);
  });

  it('turns fractions into whole percentages', () => {
    expect(percentOf(0.426)).toBe(43);
    expect(percentOf(1.2)).toBe(100);
    expect(percentOf(-0.1)).toBe(0);
    expect(percentOf(null)).toBeNull();
    expect(percentOf(NaN)).toBeNull();
  });
});

describe('paths', () => {
  it('splits POSIX and Windows paths', () => {
    expect(dirName('/home/a/clip.mp4')).toBe('/home/a');
    expect(dirName('/clip.mp4')).toBe('/');
    expect(dirName('C:\\v\\clip.mp4')).toBe('C:\\v');
    expect(stem('/a/clip.final.mp4')).toBe('clip.final');
    expect(stem('/a/.hidden')).toBe('.hidden');
    expect(siblingPath('/home/a/clip.mp4', 'x.stylecast')).toBe('/home/a/x.stylecast');
    expect(siblingPath('C:\\v\\clip.mp4', 'x.stylecast')).toBe('C:\\v\\x.stylecast');
    expect(siblingPath('/clip.mp4', 'x')).toBe('/x');
  });
});

describe('modal stack', () => {
  it('knows the top dialog and whether any is open', () => {
    expect(isModalOpen()).toBe(false);
    const a = pushModal('export');
    const b = pushModal('confirm');
    expect(isTopModal(b)).toBe(true);
    expect(isTopModal(a)).toBe(false);
    removeModal(b);
    expect(isTopModal(a)).toBe(true);
    removeModal(a);
    removeModal(a);
    expect(isModalOpen()).toBe(false);
  });
});
