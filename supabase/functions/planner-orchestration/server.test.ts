// server.test.ts: index.ts as it is run locally (`deno run --allow-net --allow-env --allow-read`),
// configured by its environment and spoken to over HTTP.

import assert from "node:assert/strict";

import { cancelActive, dbUrl, newService, newUser, runRequest, SECRET, superuser, tokenFor } from "./fixtures.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitUntilServing(url: string, child: Deno.ChildProcess): Promise<void> {
  const exited = child.status.then((s) => s);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const done = await Promise.race([exited, new Promise((r) => setTimeout(r, 100, undefined))]);
    if (done) throw new Error(`index.ts exited with ${JSON.stringify(done)} before serving`);
    try {
      const res = await fetch(url, { method: "OPTIONS" });
      await res.body?.cancel();
      return;
    } catch {
      // not listening yet
    }
  }
  throw new Error(`index.ts did not serve ${url} within 30 s`);
}

Deno.test("index.ts serves on PORT: preflight, a wrong method, a refusal and a queued run over HTTP", async () => {
  const port = freePort();
  const url = `http://127.0.0.1:${port}/planner-orchestration`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--frozen", "--allow-net", "--allow-env", "--allow-read", new URL("./index.ts", import.meta.url).pathname],
    clearEnv: true,
    env: { PORT: String(port), SUPABASE_DB_URL: dbUrl(), PLANNER_JWT_SECRET: SECRET, NO_COLOR: "1",
           PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "",
           ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}) },
    stdin: "null", stdout: "null", stderr: "inherit",
  }).spawn();
  const sql = superuser();
  let service;
  try {
    await waitUntilServing(url, child);

    const preflight = await fetch(url, { method: "OPTIONS", headers: { Origin: "https://planner.example" } });
    await preflight.body?.cancel();
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), "*");

    const get = await fetch(url);
    assert.equal(get.status, 405);
    await get.body?.cancel();

    const unsigned = await fetch(url, { method: "POST", body: JSON.stringify(runRequest(crypto.randomUUID())) });
    assert.equal(unsigned.status, 401);
    assert.deepEqual(Object.keys(await unsigned.json()), ["error"]);

    service = await newService(sql);
    const planner = await newUser(sql, service.org, "planner");
    const res = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(planner)}`, "Content-Type": "application/json" },
      body: JSON.stringify(runRequest(service.allocationRun)),
    });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(res.headers.get("Content-Type"), "application/json; charset=utf-8");
    assert.equal(body.status, "PENDING");
    const [row] = await sql`select allocation_run from public.allocation_planner_runs where id = ${body.planner_run}`;
    assert.equal(row.allocation_run, service.allocationRun);
  } finally {
    if (service) await cancelActive(sql, service.allocationRun);
    await sql.end({ timeout: 1 });
    child.kill("SIGTERM");
    await child.status;
  }
});
