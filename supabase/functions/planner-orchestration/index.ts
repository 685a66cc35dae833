// index.ts: serves planner-orchestration. Supabase's edge runtime supplies the port; run locally with
//   deno run --allow-net --allow-env --allow-read supabase/functions/planner-orchestration/index.ts
// configured by SUPABASE_DB_URL and PLANNER_JWT_SECRET or PLANNER_JWKS_URL (see README.md).

import { configFromEnv, createHandler } from "./handler.ts";

const handler = createHandler(configFromEnv());
Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, handler);
