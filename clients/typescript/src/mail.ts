// The emails of a test server: it writes each one as an .eml file into its
// mail folder (KEYHOLDER_MAIL_DIR). Reads the token of a `<route>#token=` link.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/** Quoted-printable: drops `=` soft line breaks and decodes `=XX` (as UTF-8). */
function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i] ?? "", "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The token of the newest email to `to` holding a `<route>#token=` link; waits up to 20 s. */
export async function linkToken(mailDir: string, to: string, route: string): Promise<string> {
  const escaped = route.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const link = new RegExp(`${escaped}#token=([A-Za-z0-9_-]+)`);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const names = (await readdir(mailDir)).filter((name) => name.endsWith(".eml"));
    const dated = await Promise.all(
      names.map(async (name) => ({ name, mtime: (await stat(join(mailDir, name))).mtimeMs })),
    );
    dated.sort((a, b) => b.mtime - a.mtime);
    for (const { name } of dated) {
      const raw = await readFile(join(mailDir, name), "utf8");
      const headerEnd = raw.search(/\r?\n\r?\n/);
      const headers = raw.slice(0, headerEnd);
      const recipient = /^To:\s*(.*)$/im.exec(headers)?.[1] ?? "";
      if (!recipient.toLowerCase().includes(to.toLowerCase())) continue;
      const found = link.exec(decodeQuotedPrintable(raw.slice(headerEnd)));
      if (found?.[1] !== undefined) return found[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no email to ${to} with a ${route}#token= link in ${mailDir}`);
}
