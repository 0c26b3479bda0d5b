// recoverableChannel: a phoenix.js channel that gets back what it missed while it was away, on topics
// where Cinder keeps history (the `topics` setting). Cinder numbers such a topic's broadcasts ("_seq" in
// object payloads) within an epoch; phoenix.js re-evaluates a channel's params on every rejoin, so this
// sends `{since: {seq, epoch}}` each time, and the server replays the missed messages, in order, before
// any new broadcast, or answers `recovered: false` when it cannot (too old, another epoch).

/**
 * ```js
 * const ch = recoverableChannel(socket, 'telemetry:fleet', {}, {
 *   onRecovery: ({ recovered }) => { if (!recovered) refetchEverything(); },
 * });
 * ch.on('position', (p) => draw(p));      // live and replayed messages alike, in order
 * await joinChannel(ch);
 * ```
 *
 * @param {import('phoenix').Socket} socket
 * @param {string} topic
 * @param {object | (() => object)} [params] the channel's own params (an object or a function)
 * @param {{ onRecovery?: (r: import('../index.js').RecoveryResult) => void }} [opts]
 * @returns {import('../index.js').RecoverableChannel}
 */
export function recoverableChannel(socket, topic, params = {}, { onRecovery } = {}) {
  /** @type {{seq: number | null, epoch: string | null}} */
  const cursor = { seq: null, epoch: null };
  const base = typeof params === 'function' ? params : () => params;
  const channel = socket.channel(topic, () => {
    const p = { ...base() };
    if (cursor.epoch !== null && cursor.seq !== null) p.since = { seq: cursor.seq, epoch: cursor.epoch };
    return p;
  });

  const previous = channel.onMessage.bind(channel);
  channel.onMessage = (event, payload, ref, joinRef) => {
    if (payload && typeof payload === 'object' && typeof payload._seq === 'number') {
      if (cursor.seq === null || payload._seq > cursor.seq) cursor.seq = payload._seq;
    }
    return previous(event, payload, ref, joinRef);
  };

  // joinPush is reused for every rejoin, so this hook sees each join reply
  channel.joinPush.receive('ok', (resp) => {
    if (!resp || typeof resp.epoch !== 'string' || typeof resp.seq !== 'number') return;
    const asked = cursor.epoch !== null;
    if (!asked || resp.recovered !== true) {
      // a first join, or the gap could not be filled: carry on from the topic's current number
      cursor.epoch = resp.epoch;
      cursor.seq = resp.seq;
    }
    if (asked && onRecovery) onRecovery({ recovered: resp.recovered === true, epoch: resp.epoch, seq: resp.seq });
  });

  /** @type {any} */ (channel).cursor = () => ({ ...cursor });
  return /** @type {any} */ (channel);
}
