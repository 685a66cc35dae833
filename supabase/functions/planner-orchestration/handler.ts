// handler.ts: planner-orchestration, the one way a frontend starts a planner run.
//
//   POST {allocation_run, n_job_lines, constraints?, options?}   Authorization: Bearer <user's JWT>
//   -> 202 {"planner_run": id, "status": "PENDING"}
//
// It verifies the caller, checks the body, and queues the run as that user; the database's worker
// solves it. Every answer is JSON with CORS headers; refusals are {"error", "field"?}.

import { type AuthConfig, makeVerifier } from "./auth.ts";
import { parseBody } from "./body.ts";
import { connect, type DatabaseConfig, explain, queueRun, type Sql } from "./database.ts";
import { corsHeaders, json, readText, Refusal, refusal } from "./http.ts";

export interface Config extends AuthConfig, DatabaseConfig {
  /** Access-Control-Allow-Origin; "*" by default (the JWT, not a cookie, carries the identity). */
  corsOrigin?: string;
  /** Where details left out of answers go; console.error by default. */
  log?: (event: string, detail: unknown) => void;
}

export interface Handler {
  (req: Request): Promise<Response>;
  /** Closes the database client (tests; a server ends with its process). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024;

/** The configuration an edge function gets from its environment. */
export function configFromEnv(env: { get(name: string): string | undefined } = Deno.env): Config {
  const url = env.get("SUPABASE_DB_URL");
  if (!url) throw new Error("set SUPABASE_DB_URL");
  const optionalNumber = (name: string) => env.get(name) ? Number(env.get(name)) : undefined;
  return {
    url,
    jwtSecret: env.get("PLANNER_JWT_SECRET") || undefined,
    jwksUrl: env.get("PLANNER_JWKS_URL") || undefined,
    issuer: env.get("PLANNER_JWT_ISSUER") || undefined,
    audience: env.get("PLANNER_JWT_AUDIENCE") || undefined,
    corsOrigin: env.get("PLANNER_CORS_ORIGIN") || undefined,
    connectTimeoutSeconds: optionalNumber("PLANNER_DB_CONNECT_TIMEOUT"),
  };
}

export function createHandler(config: Config): Handler {
  const log = config.log ??
    ((event: string, detail: unknown) => console.error(`planner-orchestration: ${event}:`, detail));
  const verify = makeVerifier(config, log);
  const cors = corsHeaders(config.corsOrigin ?? "*");
  let sql: Sql | undefined; // one client (a small pool) for the process, made on first use

  const handle = async (req: Request): Promise<Response> => {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    if (req.method !== "POST") {
      return refusal(new Refusal(405, `method ${req.method} is not allowed; use POST`, undefined,
                                 { "Allow": "POST, OPTIONS" }), cors);
    }
    try {
      const claims = await verify(req.headers.get("Authorization"));
      const request = parseBody(await readText(req, MAX_BODY_BYTES));
      sql ??= connect(config);
      let run;
      try {
        run = await queueRun(sql, claims, request, config.statementTimeoutMs);
      } catch (e) {
        throw explain(e, log);
      }
      return json(202, { planner_run: run.id, status: run.status }, cors);
    } catch (e) {
      if (e instanceof Refusal) return refusal(e, cors);
      log("unexpected error", e);
      return refusal(new Refusal(500, "internal error: the planner run was not queued"), cors);
    }
  };

  return Object.assign(handle, {
    close: async () => {
      await sql?.end({ timeout: 1 });
      sql = undefined;
    },
  });
}
