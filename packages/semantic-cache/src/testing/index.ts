export type { StartTestRedisOptions, TestRedis } from "./redis-server.js";
export { startTestRedis } from "./redis-server.js";
