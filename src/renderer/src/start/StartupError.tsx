import { LogoMark } from '../ui/icons';

/** Shown instead of the app when the preload API is missing. */
export function StartupError({ message }: { message: string }) {
  return (
    <main className="startup-error" role="alert">
      <LogoMark size={40} />
      <h1>Stylecast Studio could not start</h1>
      <p>{message}</p>
    </main>
  );
}
