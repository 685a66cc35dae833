// http.ts: JSON answers, each with the CORS headers a browser needs to read it.

/** Headers every answer carries, the preflight's included. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    "Access-Control-Allow-Origin": origin,
    // What supabase-js sends with functions.invoke.
    "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
    ...(origin === "*" ? {} : { "Vary": "Origin" }),
  };
}

/** A refusal the caller can act on: the reason and, where one is to blame, the field of the request. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "Refusal";
  }
}

export function json(status: number, body: unknown, cors: Record<string, string>,
                     headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...cors, ...headers, "Content-Type": "application/json; charset=utf-8" },
  });
}

export function refusal(r: Refusal, cors: Record<string, string>): Response {
  const body = r.field === undefined ? { error: r.message } : { error: r.message, field: r.field };
  return json(r.status, body, cors, r.headers);
}

/** The body as text, refused with 413 past `limit` bytes without reading the rest. */
export async function readText(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get("Content-Length") ?? "0");
  const tooLarge = () => new Refusal(413, `(body): must be at most ${limit} bytes`, "(body)");
  if (declared > limit) throw tooLarge();
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}
