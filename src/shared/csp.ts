// The renderer's Content-Security-Policy, in one place: main sends it as a
// response header and the renderer build writes it into index.html's meta tag.

const PROD_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  // stylecast-media: serves the audio of videos the user opened (src/main/media.ts).
  'media-src': ["'self'", 'blob:', 'stylecast-media:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"]
};

/** `dev` adds only what the Vite dev server's hot reload needs: its websocket. */
export function contentSecurityPolicy({ dev }: { dev: boolean }): string {
  const directives = { ...PROD_DIRECTIVES };
  if (dev) directives['connect-src'] = [...PROD_DIRECTIVES['connect-src']!, 'ws://localhost:*', 'ws://127.0.0.1:*'];
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}
