import { afterAll, beforeAll } from 'vitest';
import { createGitFixtureRoot, startGitDaemon, type GitFixtureRoot, type GitServerPeer } from '../peers/git-servers.js';

/** A root of bare repositories served by `git daemon` on loopback for one describe block (started before, stopped after). */
export function useGitDaemon(): () => { root: GitFixtureRoot; daemon: GitServerPeer } {
  const state: { root?: GitFixtureRoot; daemon?: GitServerPeer } = {};
  beforeAll(async () => {
    state.root = createGitFixtureRoot();
    state.daemon = await startGitDaemon(state.root.dir);
  });
  afterAll(async () => {
    await state.daemon?.close();
    state.root?.close();
  });
  return () => {
    if (!state.root || !state.daemon) throw new Error('git daemon not ready');
    return { root: state.root, daemon: state.daemon };
  };
}
