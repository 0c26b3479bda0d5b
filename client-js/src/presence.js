// presenceList: a live, sorted list of who is present on a channel, built on phoenix.js's Presence
// (which does the presence_state / presence_diff bookkeeping). phoenix.js's Presence takes one onSync
// callback; this keeps any number of listeners and tells them who joined and who left.

import { Presence } from 'phoenix';

/**
 * A live presence list for `channel`. Create it before joining, so the first presence_state is seen.
 *
 * ```js
 * const viewers = presenceList(channel);
 * viewers.onChange((list, { joined, left }) => render(list));
 * await joinChannel(channel);
 * ```
 *
 * Entries are `{id, metas}` sorted by id: one per presence key (the user id in Cinder's demo app),
 * with one meta per connection of that user. `joined` / `left` name the keys that appeared or went away
 * entirely in that sync.
 *
 * @param {import('phoenix').Channel} channel
 * @returns {import('../index.js').PresenceList}
 */
export function presenceList(channel) {
  const presence = new Presence(channel);
  /** @type {Set<(list: import('../index.js').PresenceEntry[], change: import('../index.js').PresenceChange) => void>} */
  const listeners = new Set();
  /** @type {string[]} */
  let joined = [];
  /** @type {string[]} */
  let left = [];
  let destroyed = false;

  const list = () =>
    presence
      .list((id, { metas }) => ({ id, metas }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  presence.onJoin((id, current) => {
    if (!current) joined.push(id);
  });
  presence.onLeave((id, current) => {
    if (!current || current.metas.length === 0) left.push(id);
  });
  presence.onSync(() => {
    if (destroyed) return;
    const change = { joined, left };
    joined = [];
    left = [];
    const snapshot = list();
    for (const fn of listeners) fn(snapshot, change);
  });

  return {
    presence,
    list,
    get size() {
      return presence.list().length;
    },
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    destroy() {
      destroyed = true;
      listeners.clear();
    },
  };
}
