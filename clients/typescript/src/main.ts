// One asset invitation end to end, through the generated types:
// register and sign in, confirm the address, create an estate and an asset,
// invite an address to the asset, find the invitation in the management
// table, accept it with the emailed token (signing the invitee up), and check
// that it reads as accepted and that the invitee sees the asset.
//
// Environment: KEYHOLDER_BASE_URL (the server), KEYHOLDER_MAIL_DIR (the
// folder the server writes its emails to as .eml files).
// Exits non-zero on the first unexpected answer.

import createClient, { type Middleware } from "openapi-fetch";

import { linkToken } from "./mail.js";
import type { paths } from "./schema.js";

const baseUrl = required("KEYHOLDER_BASE_URL");
const mailDir = required("KEYHOLDER_MAIL_DIR");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** A client that sends `token` (when set) as the bearer token. */
function clientFor(token?: string) {
  const client = createClient<paths>({ baseUrl });
  if (token !== undefined) {
    const bearer: Middleware = {
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    };
    client.use(bearer);
  }
  return client;
}

/** The body of an answer with the expected status, or an error naming the step. */
function expect<T>(
  step: string,
  status: number,
  answer: { data?: T; error?: unknown; response: Response },
): T {
  if (answer.response.status !== status || answer.data === undefined) {
    const got = JSON.stringify(answer.error ?? answer.data);
    throw new Error(`${step}: expected ${status}, got ${answer.response.status}: ${got}`);
  }
  console.log(`${step}: ${status}`);
  return answer.data;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function main(): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 10);
  const owner = { email: `ts-owner-${suffix}@example.com`, username: `ts_owner_${suffix}` };
  const password = `ts-password-${suffix}`;
  const anonymous = clientFor();

  const registered = expect(
    "registerAccount",
    201,
    await anonymous.POST("/api/v1/auth/register", {
      body: { ...owner, password, display_name: "TypeScript Owner" },
    }),
  );
  check(registered.user.username === owner.username, "the registered username");

  const session = expect(
    "logIn",
    200,
    await anonymous.POST("/api/v1/auth/login", { body: { login: owner.email, password } }),
  );
  const api = clientFor(session.access_token);

  // Creating an estate needs a confirmed address.
  const verifyToken = await linkToken(mailDir, owner.email, "/verify-email");
  expect(
    "verifyEmail",
    200,
    await anonymous.POST("/api/v1/auth/verify-email", { body: { token: verifyToken } }),
  );

  const estate = expect(
    "createEstate",
    201,
    await api.POST("/api/v1/estates", { body: { name: "Riverside" } }),
  );
  check(estate.name === "Riverside", "the estate's name");

  const asset = expect(
    "createAsset",
    201,
    await api.POST("/api/v1/assets", { body: { name: "Van 7", reference: "KX21 ABC" } }),
  );

  const invitee = `ts-invitee-${suffix}@example.com`;
  const sent = expect(
    "sendInvitationForAsset",
    201,
    await api.POST("/api/v1/assets/{asset_id}/invitations", {
      params: { path: { asset_id: asset.id } },
      body: { email: invitee, permission: "edit" },
    }),
  );
  check(sent.status === "pending", `a new invitation is pending (${sent.status})`);

  const table = expect(
    "listAssetInvitations",
    200,
    await api.GET("/api/v1/asset-invitations", { params: { query: { asset_id: asset.id } } }),
  );
  const row = table.items.find((item) => item.id === sent.id);
  check(row !== undefined && row.email === invitee, "the invitation is in the asset invitation table");

  const acceptToken = await linkToken(mailDir, invitee, "/invitations/accept");
  const joined = expect(
    "acceptInvitationWithSignUp",
    201,
    await anonymous.POST("/api/v1/invitations/accept-signup", {
      body: { token: acceptToken, username: `ts_invitee_${suffix}`, password, display_name: "TypeScript Invitee" },
    }),
  );

  const after = expect(
    "getAssetInvitation",
    200,
    await api.GET("/api/v1/asset-invitations/{invitation_id}", {
      params: { path: { invitation_id: sent.id } },
    }),
  );
  check(after.status === "accepted", `the invitation reads as accepted (${after.status})`);

  const seen = expect(
    "getAsset (as the invitee)",
    200,
    await clientFor(joined.access_token).GET("/api/v1/assets/{asset_id}", {
      params: { path: { asset_id: asset.id } },
    }),
  );
  check(seen.id === asset.id, "the invitee sees the asset");
  console.log("typescript client: the invitation was accepted");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
