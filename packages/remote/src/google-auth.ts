import { withDeadline } from "./http.js";

/** Bearer tokens for Google APIs. */
export interface GoogleTokenSource {
  /** A current access token (cached and refreshed by google-auth-library), within `signal`'s deadline. */
  token(signal: AbortSignal): Promise<string>;
}

export interface GoogleTokenSourceOptions {
  /** A credential file (service account or external account); default Application Default Credentials. */
  readonly keyFile?: string;
  /** Default cloud-platform. */
  readonly scopes?: readonly string[];
}

/**
 * Application Default Credentials through google-auth-library (loaded on first use: only
 * the callouts that call Google need it): the metadata server on GKE (Workload Identity),
 * GOOGLE_APPLICATION_CREDENTIALS, or `keyFile`. Tokens are never logged.
 */
export function createGoogleTokenSource(options: GoogleTokenSourceOptions = {}): GoogleTokenSource {
  let auth: Promise<{ getAccessToken(): Promise<string | null | undefined> }> | undefined;
  const client = () => {
    auth ??= import("google-auth-library").then(
      ({ GoogleAuth }) =>
        new GoogleAuth({
          scopes: [...(options.scopes ?? ["https://www.googleapis.com/auth/cloud-platform"])],
          ...(options.keyFile ? { keyFilename: options.keyFile } : {}),
        }),
    );
    return auth;
  };
  return {
    async token(signal) {
      const token = await withDeadline(
        client().then((c) => c.getAccessToken()),
        signal,
        "access token",
      );
      if (!token) throw new Error("no access token from Application Default Credentials");
      return token;
    },
  };
}
