// auth.ts: who is calling, from the Authorization header's JWT (Supabase Auth's access token).
//
// Verified with jose against the project's JWT secret (HS256, as self-hosted Supabase signs) and/or
// a JWKS URL (Supabase's asymmetric signing keys, ES256 or RS256). Only those algorithms are
// accepted, so `alg: none` and a public key used as an HMAC secret are refused.
//
// Only a signed-in user's token starts runs: role "authenticated" and a uuid sub. The anon key
// (role anon, no sub) and the service_role key are validly signed but name no user, so they get
// 401 like a missing token: the caller has to sign in, which 403 would not tell them.

import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";

import { Refusal } from "./http.ts";

export interface AuthConfig {
  /** The project's JWT secret (HS256). */
  jwtSecret?: string;
  /** The JWKS of Supabase's asymmetric signing keys, e.g. https://<project>/auth/v1/.well-known/jwks.json */
  jwksUrl?: string;
  /** When set, the token's iss / aud must match. */
  issuer?: string;
  audience?: string;
}

export type Claims = JWTPayload & { sub: string; role: "authenticated" };

const ASYMMETRIC = ["ES256", "RS256"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TOKEN_LENGTH = 16 * 1024;

// jose's errors about the token itself; the others (a JWKS that cannot be fetched) are ours.
const TOKEN_ERRORS = new Set([
  "ERR_JWT_EXPIRED", "ERR_JWT_CLAIM_VALIDATION_FAILED", "ERR_JWT_INVALID", "ERR_JWS_INVALID",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "ERR_JOSE_ALG_NOT_ALLOWED", "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWKS_NO_MATCHING_KEY", "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
]);

function unauthorized(message: string): Refusal {
  return new Refusal(401, message, undefined, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
}

export type Verifier = (authorization: string | null) => Promise<Claims>;

/** A verifier for the configured keys; throws when none is configured. */
export function makeVerifier(config: AuthConfig, log: (event: string, detail: unknown) => void): Verifier {
  const secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : undefined;
  const jwks = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000 })
    : undefined;
  if (!secret && !jwks) throw new Error("set PLANNER_JWT_SECRET or PLANNER_JWKS_URL");
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? ASYMMETRIC : [])];
  // jose checks the header's alg against `algorithms` before asking for the key.
  const key: JWTVerifyGetKey = (header, token) => header.alg === "HS256" ? secret! : jwks!(header, token);

  return async (authorization) => {
    const match = /^Bearer +(\S+)$/i.exec(authorization ?? "");
    if (!match) throw unauthorized("sign in: an Authorization: Bearer <access token> header is required");
    if (match[1].length > MAX_TOKEN_LENGTH) throw unauthorized("the access token is too long");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], key, {
        algorithms, requiredClaims: ["exp"], issuer: config.issuer, audience: config.audience,
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw unauthorized("the access token has expired: sign in again");
      if (e instanceof errors.JOSEError && TOKEN_ERRORS.has(e.code)) {
        throw unauthorized("the access token is not valid");
      }
      log("the signing keys could not be read", e);
      throw new Refusal(503, "the signing keys are unavailable; try again shortly", undefined,
                        { "Retry-After": "5" });
    }
    if (payload.role !== "authenticated" || typeof payload.sub !== "string" || !UUID.test(payload.sub)) {
      throw unauthorized("sign in: the access token must be a signed-in user's");
    }
    return payload as Claims;
  };
}
