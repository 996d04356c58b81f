export {
  type GoogleApiAnswer,
  type GoogleApiRequest,
  type GoogleContractServer,
  type GoogleFault,
  googleError,
  startGoogleContractServer,
} from "./google-contract.js";
export { type JsonExchange, type JsonServer, startJsonServer } from "./json-server.js";
