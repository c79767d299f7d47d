// The navigation rules of every WebContents, kept free of Electron imports so that plain
// Node tests drive them with forged events (a compromised page's navigations).

/** The part of Electron's WebContents the guard uses. */
export interface GuardedContents {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect', listener: (event: { url: string; preventDefault(): void }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
}

/**
 * Applied to every WebContents the app creates: no pop-ups, no webviews, and
 * no navigation away from the app's own page (a dropped file would otherwise
 * replace the UI with a file:// URL).
 */
export function guardWebContents(contents: GuardedContents, isAppUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(({ url }) => {
    console.warn(`Stylecast: blocked a new window for ${url}`);
    return { action: 'deny' };
  });
  const blockForeign = (event: { preventDefault(): void }, url: string): void => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    console.warn(`Stylecast: blocked navigation to ${url}`);
  };
  contents.on('will-navigate', (event) => blockForeign(event, event.url));
  // will-navigate sees the main frame only: sub-frames (an injected iframe) navigate here.
  contents.on('will-frame-navigate', (event) => blockForeign(event, event.url));
  contents.on('will-redirect', (event) => blockForeign(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
