/**
 * Meeting's client SDK: join a room, publish camera, microphone and screen, receive everyone
 * else, chat and send data, with automatic reconnection. See docs/protocol.md for the wire
 * protocol it speaks and web/app for an application built on it.
 */
export { Room, type ConnectionState, type RemoteTrack, type RoomEvents, type RoomOptions } from './Room.js';
export { RoomState, type Participant, type RoomChange } from './RoomState.js';
export { SignalingClient, SignalingError, type SignalingEvents, type SignalingOptions, type SignalingState, type SocketLike, type Timers } from './SignalingClient.js';
export type { DataChannelMessage, LocalPublication } from './PublishConnection.js';
export { Emitter } from './Emitter.js';
export * from './protocol.js';
