// request.test.ts: what is answered before (or without) the database: CORS, methods, tokens, bodies,
// and a database that is down.
//
// The handlers here point at a closed port: a request that reached the database would be
// answered 503, so every 400 and 401 below was decided without it.

import assert from "node:assert/strict";

import { exportJWK, generateKeyPair, SignJWT } from "jose";

import {
  anonKey, closedPortUrl, handlerFor, post, runRequest, SECRET, tokenFor, unsignedToken,
} from "./fixtures.ts";

const USER = "7d5f3a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6";
const RUN = "0b6f8a2e-5c4d-4e3f-9a1b-2c3d4e5f6a7b";

async function answer(res: Response) {
  assert.equal(res.headers.get("Access-Control-Allow-Origin"), "*", "every answer carries the CORS headers");
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Runs `fn` with a handler on a closed port, closing it after. */
async function withOfflineHandler(fn: (h: ReturnType<typeof handlerFor>) => Promise<void>,
                                  config: Parameters<typeof handlerFor>[0] = {}) {
  const handler = handlerFor({ url: closedPortUrl(), ...config });
  try {
    await fn(handler);
  } finally {
    await handler.close();
  }
}

// ---------------------------------------------------------------- CORS and methods

Deno.test("a CORS preflight is answered 204 with the allowed origin, headers and methods", () =>
  withOfflineHandler(async (handler) => {
    const res = await handler(new Request("http://localhost/", {
      method: "OPTIONS",
      headers: { Origin: "https://planner.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type" },
    }));
    const { status, body, headers } = await answer(res);
    assert.equal(status, 204);
    assert.equal(body, null);
    for (const header of ["authorization", "content-type", "apikey", "x-client-info"]) {
      assert.match(headers.get("Access-Control-Allow-Headers")!, new RegExp(`\\b${header}\\b`));
    }
    assert.match(headers.get("Access-Control-Allow-Methods")!, /\bPOST\b/);
  }));

Deno.test("a configured origin is the one allowed", () =>
  withOfflineHandler(async (handler) => {
    const res = await handler(new Request("http://localhost/", { method: "OPTIONS" }));
    await res.body?.cancel();
    assert.equal(res.headers.get("Access-Control-Allow-Origin"), "https://planner.example");
    assert.equal(res.headers.get("Vary"), "Origin");
  }, { corsOrigin: "https://planner.example" }));

Deno.test("methods other than POST are answered 405 with Allow", () =>
  withOfflineHandler(async (handler) => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const { status, body, headers } = await answer(await handler(new Request("http://localhost/", { method })));
      assert.equal(status, 405, method);
      assert.equal(headers.get("Allow"), "POST, OPTIONS");
      assert.match(body.error, new RegExp(method));
    }
  }));

// ---------------------------------------------------------------- tokens: 401

Deno.test("tokens that are missing, expired, forged or name no user are answered 401", () =>
  withOfflineHandler(async (handler) => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string | undefined, RegExp][] = [
      ["no Authorization header", undefined, /Authorization: Bearer/],
      ["an empty bearer", "", /Authorization: Bearer/],
      ["not a JWT", "not-a-jwt", /not valid/],
      ["expired", await tokenFor(USER, {}, SECRET, -60), /expired/],
      ["signed with another secret", await tokenFor(USER, {}, "another-secret-of-at-least-thirty-two-chars"), /not valid/],
      ["alg none", unsignedToken(USER), /not valid/],
      ["without exp", await new SignJWT({ role: "authenticated", sub: USER }).setProtectedHeader({ alg: "HS256" })
        .setIssuedAt(now).sign(new TextEncoder().encode(SECRET)), /not valid/],
      ["HS512 with the right secret", await new SignJWT({ role: "authenticated", sub: USER })
        .setProtectedHeader({ alg: "HS512" }).setExpirationTime(now + 60)
        .sign(new TextEncoder().encode(SECRET)), /not valid/],
      ["the anon key", await anonKey(), /signed-in user/],
      ["the service_role key", await tokenFor(USER, { role: "service_role" }), /signed-in user/],
      ["a sub that is not a uuid", await tokenFor("not-a-uuid"), /signed-in user/],
      ["a payload altered after signing", await (async () => {
        const [h, , s] = (await tokenFor(USER)).split(".");
        const forged = btoa(JSON.stringify({ role: "authenticated", sub: RUN, exp: now + 60 }))
          .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
        return `${h}.${forged}.${s}`;
      })(), /not valid/],
    ];
    for (const [what, token, message] of cases) {
      const { status, body, headers } = await answer(await handler(post(runRequest(RUN), token)));
      assert.equal(status, 401, what);
      assert.match(body.error, message, what);
      assert.equal(headers.get("WWW-Authenticate"), 'Bearer error="invalid_token"', what);
    }
    const basic = await handler(new Request("http://localhost/", {
      method: "POST", headers: { Authorization: "Basic dXNlcjpwYXNz" }, body: "{}",
    }));
    assert.equal((await answer(basic)).status, 401);
  }));

Deno.test("a token checks issuer and audience when they are configured", () =>
  withOfflineHandler(async (handler) => {
    const wrong = await answer(await handler(post(runRequest(RUN), await tokenFor(USER, { iss: "elsewhere" }))));
    assert.equal(wrong.status, 401);
    const right = await answer(await handler(post({}, await tokenFor(USER, { iss: "supabase" }))));
    assert.equal(right.status, 400, "past the token, the body is checked");
  }, { issuer: "supabase", audience: "authenticated" }));

// ---------------------------------------------------------------- asymmetric keys from a JWKS

type Sign = (alg: string, key: CryptoKey, kid: string) => Promise<string>;

/** Serves a JWKS of `keys` while `fn` runs; `sign` makes a user's token with a private key. */
async function withJwks(fn: (url: string, sign: Sign) => Promise<void>,
                        keys: { publicKey: CryptoKey; kid: string; alg: string }[]) {
  const jwks = {
    keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg }))),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => Response.json(jwks));
  const sign: Sign = (alg, key, kid) =>
    new SignJWT({ role: "authenticated", aud: "authenticated" }).setProtectedHeader({ alg, kid, typ: "JWT" })
      .setSubject(USER).setExpirationTime(Math.floor(Date.now() / 1000) + 60).sign(key);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`, sign);
  } finally {
    await server.shutdown();
  }
}

Deno.test("tokens signed with the JWKS's keys pass; other keys and HS256 without a secret do not", async () => {
  const es = await generateKeyPair("ES256");
  const rs = await generateKeyPair("RS256");
  const stranger = await generateKeyPair("ES256");
  await withJwks(async (jwksUrl, sign) => {
    await withOfflineHandler(async (handler) => {
      for (const [alg, key, kid] of [["ES256", es.privateKey, "es"], ["RS256", rs.privateKey, "rs"]] as const) {
        const { status, body } = await answer(await handler(post({ n_job_lines: 1 }, await sign(alg, key, kid))));
        assert.equal(status, 400, `${alg}: past the token, the body is checked`);
        assert.equal(body.field, "allocation_run");
      }
      const refused: [string, string][] = [
        ["another key under a known kid", await sign("ES256", stranger.privateKey, "es")],
        ["another key under an unknown kid", await sign("ES256", stranger.privateKey, "new")],
        ["HS256 with no secret configured", await tokenFor(USER)],
      ];
      for (const [what, token] of refused) {
        assert.equal((await answer(await handler(post(runRequest(RUN), token)))).status, 401, what);
      }
    }, { jwtSecret: undefined, jwksUrl });
  }, [{ publicKey: es.publicKey, kid: "es", alg: "ES256" }, { publicKey: rs.publicKey, kid: "rs", alg: "RS256" }]);
});

Deno.test("a JWKS that cannot be fetched is answered 503, not 401", async () => {
  const es = await generateKeyPair("ES256");
  const token = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "ES256", kid: "es" })
    .setSubject(USER).setExpirationTime(Math.floor(Date.now() / 1000) + 60).sign(es.privateKey);
  const jwksUrl = closedPortUrl().replace(/^postgres:\/\/postgres@/, "http://").replace(/\/test$/, "/jwks.json");
  await withOfflineHandler(async (handler) => {
    const { status, body, headers } = await answer(await handler(post(runRequest(RUN), token)));
    assert.equal(status, 503);
    assert.match(body.error, /signing keys/);
    assert.equal(headers.get("Retry-After"), "5");
    assert.deepEqual(handler.logged, ["the signing keys could not be read"]);
  }, { jwtSecret: undefined, jwksUrl });
});

Deno.test("a handler needs a secret or a JWKS", () => {
  assert.throws(() => handlerFor({ url: closedPortUrl(), jwtSecret: undefined }), /PLANNER_JWT_SECRET or PLANNER_JWKS_URL/);
});

// ---------------------------------------------------------------- bodies: 400 naming the field

Deno.test("bad bodies are answered 400 naming the field, before the database is asked", () =>
  withOfflineHandler(async (handler) => {
    const token = await tokenFor(USER);
    const cases: [string, unknown, string, RegExp][] = [
      ["not JSON", "{allocation_run:", "(body)", /JSON object/],
      ["a JSON array", [runRequest(RUN)], "(body)", /JSON object/],
      ["an unknown field", runRequest(RUN, { org_id: RUN }), "org_id", /unknown field/],
      ["a status of its own", runRequest(RUN, { status: "COMPLETED" }), "status", /unknown field/],
      ["no allocation_run", { n_job_lines: 2 }, "allocation_run", /is required/],
      ["allocation_run not a uuid", runRequest("run-1"), "allocation_run", /must be a uuid/],
      ["allocation_run as SQL", runRequest("' or 1=1 --"), "allocation_run", /must be a uuid/],
      ["no n_job_lines", { allocation_run: RUN }, "n_job_lines", /is required/],
      ["n_job_lines 0", runRequest(RUN, { n_job_lines: 0 }), "n_job_lines", /between 1 and 2000, got 0/],
      ["n_job_lines 2001", runRequest(RUN, { n_job_lines: 2001 }), "n_job_lines", /between 1 and 2000/],
      ["n_job_lines 2.5", runRequest(RUN, { n_job_lines: 2.5 }), "n_job_lines", /integer/],
      ["n_job_lines a string", runRequest(RUN, { n_job_lines: "2" }), "n_job_lines", /integer/],
      ["constraints a string", runRequest(RUN, { constraints: "UNRESTRICTED" }), "constraints", /list/],
      ["constraints empty", runRequest(RUN, { constraints: [] }), "constraints", /1 to 10/],
      ["eleven constraints", runRequest(RUN, { constraints: Array(11).fill("UNRESTRICTED") }), "constraints", /1 to 10/],
      ["a lower-case ruleset", runRequest(RUN, { constraints: ["unrestricted"] }), "constraints", /upper case/],
      ["a ruleset that is a number", runRequest(RUN, { constraints: [7] }), "constraints", /not a ruleset name/],
      ["options an array", runRequest(RUN, { options: [] }), "options", /object/],
      ["options null", runRequest(RUN, { options: null }), "options", /object/],
      ["an unknown option", runRequest(RUN, { options: { threads: 4 } }), "options.threads", /unknown option/],
      ["allow_partial a string", runRequest(RUN, { options: { allow_partial: "yes" } }), "options.allow_partial", /true or false/],
      ["keep_locked a number", runRequest(RUN, { options: { keep_locked: 1 } }), "options.keep_locked", /true or false/],
      ["max_seconds 0", runRequest(RUN, { options: { max_seconds: 0 } }), "options.max_seconds", /more than 0/],
      ["max_seconds 3601", runRequest(RUN, { options: { max_seconds: 3601 } }), "options.max_seconds", /at most 3600/],
      ["max_seconds a string", runRequest(RUN, { options: { max_seconds: "10" } }), "options.max_seconds", /number/],
      ["seed 1.5", runRequest(RUN, { options: { seed: 1.5 } }), "options.seed", /integer/],
      ["seed negative", runRequest(RUN, { options: { seed: -1 } }), "options.seed", /between 0 and/],
      ["seed 2^31", runRequest(RUN, { options: { seed: 2 ** 31 } }), "options.seed", /between 0 and 2147483647/],
      ["num_workers 0", runRequest(RUN, { options: { num_workers: 0 } }), "options.num_workers", /between 1 and 16/],
      ["num_workers 17", runRequest(RUN, { options: { num_workers: 17 } }), "options.num_workers", /between 1 and 16/],
    ];
    for (const [what, body, field, reason] of cases) {
      const res = await answer(await handler(post(body, token, typeof body === "string")));
      assert.equal(res.status, 400, what);
      assert.equal(res.body.field, field, what);
      assert.match(res.body.error, reason, what);
      assert.ok(res.body.error.startsWith(`${field}: `), `${what}: the error reads "field: reason"`);
      assert.deepEqual(Object.keys(res.body).sort(), ["error", "field"], what);
    }
    assert.deepEqual(handler.logged, [], "nothing reached the database");
  }));

Deno.test("a body over 16 KB is answered 413", () =>
  withOfflineHandler(async (handler) => {
    const res = await answer(await handler(post(runRequest(RUN, { constraints: ["A".repeat(20_000)] }), await tokenFor(USER))));
    assert.equal(res.status, 413);
    assert.equal(res.body.field, "(body)");
  }));

// ---------------------------------------------------------------- the database down: 503

Deno.test("the database unreachable (a closed port) is answered 503 without details", () =>
  withOfflineHandler(async (handler) => {
    const { status, body, headers } = await answer(await handler(post(runRequest(RUN), await tokenFor(USER))));
    assert.equal(status, 503);
    assert.deepEqual(body, { error: "the database is unavailable; try again shortly" });
    assert.equal(headers.get("Retry-After"), "5");
    assert.deepEqual(handler.logged, ["database unavailable"], "the details went to the log");
  }));

Deno.test("a database that accepts but never answers is answered 503 after the connect timeout", async () => {
  // A listener that takes the connection and says nothing, as a hung server or a black-holed route.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const handler = handlerFor({ url: `postgres://postgres@127.0.0.1:${(listener.addr as Deno.NetAddr).port}/test`,
                               connectTimeoutSeconds: 1 });
  try {
    const started = performance.now();
    const { status } = await answer(await handler(post(runRequest(RUN), await tokenFor(USER))));
    assert.equal(status, 503);
    assert.ok(performance.now() - started < 5000, "answered within the connect timeout, not hanging");
    assert.deepEqual(handler.logged, ["database unavailable"]);
  } finally {
    await handler.close();
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});
