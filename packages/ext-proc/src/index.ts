export type { Header, HeaderInput, HeaderMap } from "./headers.js";
export { createHeaderMap, toHeaderList } from "./headers.js";
export type * from "./processor.js";
export type * from "./service.js";
export { defineServiceModule } from "./service.js";
