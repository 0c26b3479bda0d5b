// Await-able channel operations: phoenix.js's join() and push() answer through receive("ok" |
// "error" | "timeout") callbacks; these wrap them in promises that resolve with the reply or reject
// with an Error that says what failed and why.

/** Base class of the errors these helpers reject with. */
export class CinderError extends Error {
  /**
   * @param {string} message
   * @param {{code: string, topic?: string, event?: string, response?: any}} details
   */
  constructor(message, { code, topic, event, response }) {
    super(message);
    this.name = new.target.name;
    /** `join_error`, `push_error`, `timeout` or `publish_error`. */
    this.code = code;
    this.topic = topic;
    this.event = event;
    /** The server's reply payload (error replies), or undefined. */
    this.response = response;
  }
}

/** The server refused the join (an error reply, e.g. `{reason: "unauthorized"}`). */
export class JoinError extends CinderError {}
/** The server answered a push with an error reply. */
export class PushError extends CinderError {}
/** No reply within the timeout. */
export class TimeoutError extends CinderError {}

const DEFAULT_TIMEOUT = 10_000;

/** @param {any} response */
function describe(response) {
  if (response && typeof response === 'object' && typeof response.reason === 'string') return response.reason;
  try {
    return JSON.stringify(response);
  } catch {
    return String(response);
  }
}

/**
 * Joins `channel` and resolves with the join reply's payload.
 *
 * Rejects with a JoinError (error reply) or a TimeoutError (no reply in `timeout` ms). On either,
 * the channel is left unless `keepRetrying` is true: phoenix.js would otherwise rejoin it forever in
 * the background, which is rarely what an awaited join means. A channel that is already joined
 * resolves at once with `{}`.
 *
 * @param {import('phoenix').Channel} channel
 * @param {import('../index.js').JoinOptions} [opts]
 * @returns {Promise<any>}
 */
export function joinChannel(channel, { timeout = DEFAULT_TIMEOUT, keepRetrying = false } = {}) {
  const ch = /** @type {any} */ (channel);
  if (ch.state === 'joined') return Promise.resolve({});
  return new Promise((resolve, reject) => {
    const fail = (/** @type {Error} */ err) => {
      if (!keepRetrying) channel.leave();
      reject(err);
    };
    let push;
    try {
      push = channel.join(timeout);
    } catch (err) {
      reject(err);
      return;
    }
    push
      .receive('ok', (/** @type {any} */ response) => resolve(response))
      .receive('error', (/** @type {any} */ response) =>
        fail(
          new JoinError(`join "${channel.topic}" refused: ${describe(response)}`, {
            code: 'join_error',
            topic: channel.topic,
            response,
          }),
        ),
      )
      .receive('timeout', () =>
        fail(
          new TimeoutError(`join "${channel.topic}" timed out after ${timeout} ms`, {
            code: 'timeout',
            topic: channel.topic,
          }),
        ),
      );
  });
}

/**
 * Pushes `event` with `payload` on a joined (or joining) channel and resolves with the ok reply's
 * payload. Rejects with a PushError (error reply: `err.response` holds it), a TimeoutError (no reply
 * in `timeout` ms, e.g. an event the server does not answer), or phoenix.js's own Error when the
 * channel was never joined.
 *
 * @param {import('phoenix').Channel} channel
 * @param {string} event
 * @param {object | ArrayBuffer} [payload]
 * @param {import('../index.js').PushOptions} [opts]
 * @returns {Promise<any>}
 */
export function pushAsync(channel, event, payload = {}, { timeout = DEFAULT_TIMEOUT } = {}) {
  return new Promise((resolve, reject) => {
    let push;
    try {
      push = channel.push(event, /** @type {object} */ (payload), timeout);
    } catch (err) {
      reject(err);
      return;
    }
    push
      .receive('ok', (/** @type {any} */ response) => resolve(response))
      .receive('error', (/** @type {any} */ response) =>
        reject(
          new PushError(`push "${event}" on "${channel.topic}" failed: ${describe(response)}`, {
            code: 'push_error',
            topic: channel.topic,
            event,
            response,
          }),
        ),
      )
      .receive('timeout', () =>
        reject(
          new TimeoutError(`push "${event}" on "${channel.topic}" got no reply within ${timeout} ms`, {
            code: 'timeout',
            topic: channel.topic,
            event,
          }),
        ),
      );
  });
}
