// Typed access to the preload API, with a clear failure when the page is not
// running inside the Stylecast window.
import type { StylecastApi } from '../../shared/contract';

export class MissingApiError extends Error {
  override name = 'MissingApiError';
}

export function getStylecastApi(): StylecastApi {
  const api = (window as { stylecast?: StylecastApi }).stylecast;
  if (!api || typeof api.invoke !== 'function' || typeof api.on !== 'function') {
    throw new MissingApiError(
      'window.stylecast is missing: this page must run in the Stylecast Studio window, whose preload script provides the app API. ' +
        'Start the app with "npm run dev" or "npm start"; browser tests must inject the API first.'
    );
  }
  return api;
}

/**
 * The message to show a user for a failed call. Electron prefixes errors from
 * main with "Error invoking remote method '<channel>': Error: ", which says
 * nothing useful to them.
 */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^Error invoking remote method '[^']*': /, '').replace(/^(\w*Error): /, '');
}
