import { describe, expect, it } from 'vitest';
import type { ModelInfo, ProjectSummary, VideoInfo } from '../../src/shared/contract';
import { classifyPath, leaveWarning, projectOpening, resumeRequest, screenTitle } from '../../src/renderer/src/start/navigation';
import { groupAttributes, localisationLabel } from '../../src/renderer/src/models/modelView';
import { projectFixture } from './fixtures';

const project = (p: Partial<ProjectSummary> = {}) =>
  projectFixture({ path: '/w/talk.stylecast', frameCount: 10, encodedThrough: 10, identityFrame: 4, model: { id: 's', name: 'Seeded', resolution: 64, path: '/m/s' }, source: { path: '/w/talk.mp4', width: 64, height: 64, hasAudio: false, firstFrame: 0, firstFrameAtSec: 0 }, ...p });

describe('navigation', () => {
  it('classifies videos, project folders and project.json inside one', () => {
    expect(classifyPath('/a/clip.MOV')).toEqual({ kind: 'video', path: '/a/clip.MOV' });
    expect(classifyPath('/a/talk.stylecast/')).toEqual({ kind: 'project', path: '/a/talk.stylecast' });
    expect(classifyPath('/a/talk.stylecast/project.json')).toEqual({ kind: 'project', path: '/a/talk.stylecast' });
    expect(classifyPath('C:\\a\\talk.stylecast\\project.json')).toEqual({ kind: 'project', path: 'C:\\a\\talk.stylecast' });
    expect(classifyPath('/a/notes.txt').kind).toBe('unknown');
    expect(classifyPath('/a/project.json').kind).toBe('unknown');
  });

  it('sends a fully encoded project to the editor and offers to resume a partial one', () => {
    expect(projectOpening(project())).toBe('editor');
    expect(projectOpening(project({ encodedThrough: 6 }))).toBe('offer-resume');
    expect(projectOpening(project({ encodedThrough: 0 }))).toBe('must-resume');
  });

  it('resumes with the remembered request, else one built from the project', () => {
    const remembered = { video: '/w/talk.mp4', model: '/m/s', out: '/w/talk.stylecast', start: 5, count: 10, quality: 'best' as const, align: 'face' as const, identityFrame: null };
    expect(resumeRequest(project({ encodedThrough: 3 }), remembered)).toBe(remembered);
    expect(resumeRequest(project({ encodedThrough: 3 }), null)).toEqual({ video: '/w/talk.mp4', model: '/m/s', out: '/w/talk.stylecast', start: 0, count: 10, quality: 'normal', align: 'auto', identityFrame: 4 });
    expect(resumeRequest(project({ source: { path: null, width: 1, height: 1, hasAudio: false, firstFrame: 0, firstFrameAtSec: 0 } }), null)).toEqual({ error: expect.stringMatching(/source video of talk is not where/) });
    // A project of a range resumes that range: its frame 0 is the source's frame 300.
    expect(resumeRequest(project({ encodedThrough: 3, source: { path: '/w/talk.mp4', width: 64, height: 64, hasAudio: false, firstFrame: 300, firstFrameAtSec: 0 } }), null)).toMatchObject({ start: 300, count: 10 });
    expect(resumeRequest(project({ model: { id: 's', name: 'Seeded', resolution: 64, path: null } }), null)).toEqual({ error: expect.stringMatching(/not installed/) });
  });

  it('asks before leaving a running encode only', () => {
    const video = { path: '/w/talk.mp4' } as VideoInfo;
    const encode = { name: 'encode' as const, video, resume: null, priorLoss: [], key: 1 };
    expect(leaveWarning(encode, 'job-1')).toMatch(/Leaving cancels it/);
    expect(leaveWarning(encode, null)).toBeNull();
    expect(leaveWarning({ name: 'editor', project: project() }, 'job-1')).toBeNull();
    expect(screenTitle(encode)).toEqual({ title: 'Encode', context: 'talk.mp4' });
    expect(screenTitle({ name: 'editor', project: project() })).toEqual({ title: 'Editor', context: 'talk' });
  });
});

describe('model view', () => {
  const attr = (name: string, group: ModelInfo['attributes'][number]['group'], sigma: number, localisation: number) => ({ name, group, sigma, localisation });

  it('groups channels in track order with their index and sigma share', () => {
    const groups = groupAttributes([attr('lip open', 'mouth', 2, 0.9), attr('wink left', 'eyes', 4, 0.6), attr('smile', 'mouth', 1, 0.3)]);
    expect(groups.map((g) => g.label)).toEqual(['Mouth and lips', 'Eyes']);
    expect(groups[0]!.attributes.map((a) => [a.name, a.index, a.sigmaShare])).toEqual([
      ['lip open', 0, 0.5],
      ['smile', 2, 0.25]
    ]);
    expect(groups[1]!.attributes[0]!.sigmaShare).toBe(1);
    expect(groupAttributes([])).toEqual([]);
  });

  it('names localisation', () => {
    expect(localisationLabel(0.9)).toBe('local');
    expect(localisationLabel(0.6)).toBe('mostly local');
    expect(localisationLabel(0.2)).toBe('spread');
  });
});
