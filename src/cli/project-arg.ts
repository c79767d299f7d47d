import { resolve } from 'node:path';
import { loadBasis } from '../core/model/basis';
import { ModelBundle, loadBundle } from '../core/model/bundle';
import { Project, locateModel, openProject } from '../core/project';
import { modelsDir } from './paths';

/** Opens a project and the model bundle it was encoded with (found by id under the models folder). */
export async function openWithModel(dir: string, modelDir?: string): Promise<{ project: Project; bundle: ModelBundle }> {
  const project = await openProject(resolve(dir));
  const path = modelDir ? resolve(modelDir) : await locateModel(project, [modelsDir()]);
  const bundle = loadBundle(path);
  if (bundle.manifest.id !== project.doc.model.id) {
    throw new Error(`model ${path} (${bundle.manifest.id}) is not the one ${dir} was encoded with (${project.doc.model.name}, ${project.doc.model.id})`);
  }
  loadBasis(bundle);
  return { project, bundle };
}
