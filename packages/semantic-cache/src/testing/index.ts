export type {
  StartTestRedisClusterOptions,
  StartTestRedisOptions,
  TestRedis,
  TestRedisCluster,
} from "./redis-server.js";
export { startTestRedis, startTestRedisCluster } from "./redis-server.js";
