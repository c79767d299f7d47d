import { useCallback, useEffect, useState } from 'react';
import type { AppInfo, JobProgress, ModelSummary, StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import type { Loadable } from './loadable';

export interface AppStatus {
  info: Loadable<AppInfo>;
  models: Loadable<ModelSummary[]>;
  /** The most recent unfinished job, if any. */
  job: JobProgress | null;
  /** Reads the model bundles again (after an import from the command line). */
  refreshModels(): void;
}

/** App info and model bundles, read once (models again on request), plus live job progress from main. */
export function useAppStatus(api: StylecastApi): AppStatus {
  const [info, setInfo] = useState<Loadable<AppInfo>>({ state: 'loading' });
  const [models, setModels] = useState<Loadable<ModelSummary[]>>({ state: 'loading' });
  const [job, setJob] = useState<JobProgress | null>(null);
  const [modelsRead, setModelsRead] = useState(0);

  useEffect(() => {
    let live = true;
    api.invoke('app:info').then(
      (value) => live && setInfo({ state: 'ready', value }),
      (e: unknown) => live && setInfo({ state: 'error', message: errorMessage(e) })
    );
    const offProgress = api.on('job:progress', (p) => setJob(p.fraction >= 1 ? null : p));
    const offDone = api.on('job:done', (d) => setJob((j) => (j?.jobId === d.jobId ? null : j)));
    return () => {
      live = false;
      offProgress();
      offDone();
    };
  }, [api]);

  useEffect(() => {
    let live = true;
    setModels({ state: 'loading' });
    api.invoke('models:list').then(
      (value) => live && setModels({ state: 'ready', value }),
      (e: unknown) => live && setModels({ state: 'error', message: errorMessage(e) })
    );
    return () => {
      live = false;
    };
  }, [api, modelsRead]);

  const refreshModels = useCallback(() => setModelsRead((n) => n + 1), []);
  return { info, models, job, refreshModels };
}
