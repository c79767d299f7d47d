import { useEffect, useState } from 'react';
import type { AppInfo, JobProgress, ModelSummary, StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import type { Loadable } from './loadable';

export interface AppStatus {
  info: Loadable<AppInfo>;
  models: Loadable<ModelSummary[]>;
  /** The most recent unfinished job, if any. */
  job: JobProgress | null;
}

/** App info and model bundles, read once, plus live job progress from main. */
export function useAppStatus(api: StylecastApi): AppStatus {
  const [info, setInfo] = useState<Loadable<AppInfo>>({ state: 'loading' });
  const [models, setModels] = useState<Loadable<ModelSummary[]>>({ state: 'loading' });
  const [job, setJob] = useState<JobProgress | null>(null);

  useEffect(() => {
    let live = true;
    api.invoke('app:info').then(
      (value) => live && setInfo({ state: 'ready', value }),
      (e: unknown) => live && setInfo({ state: 'error', message: errorMessage(e) })
    );
    api.invoke('models:list').then(
      (value) => live && setModels({ state: 'ready', value }),
      (e: unknown) => live && setModels({ state: 'error', message: errorMessage(e) })
    );
    const unsubscribe = api.on('job:progress', (p) => setJob(p.fraction >= 1 ? null : p));
    return () => {
      live = false;
      unsubscribe();
    };
  }, [api]);

  return { info, models, job };
}
