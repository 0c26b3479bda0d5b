// cinder-client: the official phoenix.js client made comfortable for Cinder's two kinds of users,
// dashboards (sockets, await-able joins and pushes, presence lists) and backends (Publisher).
// Everything but Publisher runs in browsers and Node alike.

export { Channel, Presence, Socket } from 'phoenix';
export { createSocket, endpointUrl, watchConnection } from './socket.js';
export { CinderError, JoinError, PushError, TimeoutError, joinChannel, pushAsync } from './channel.js';
export { presenceList } from './presence.js';
export { recoverableChannel } from './recovery.js';
export { PublishError, Publisher } from './publisher.js';
