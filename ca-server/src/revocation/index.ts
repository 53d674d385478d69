export { createCrlPublisher, type CrlPublisher, type CrlPublisherOptions } from './crl-publisher.js';
export { createHttpSideApp, type HttpSideOptions } from './http-side.js';
