import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// scripts/redis8.sh takes its Debian archive from the machine's own apt sources (deb822 and
// one-line), never from a host written into the repository; REDIS8_MIRROR still wins.
const script = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/redis8.sh");

function mirror(files: Record<string, string>, env: Record<string, string> = {}) {
  const etc = mkdtempSync(join(tmpdir(), "apt-etc-"));
  mkdirSync(join(etc, "sources.list.d"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  const r = spawnSync("bash", [script, "mirror"], {
    encoding: "utf8",
    env: { ...process.env, REDIS8_MIRROR: "", ...env, REDIS8_APT_ETC: etc },
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

const deb822 = `Types: deb
# a comment
URIs: http://archive.example.test/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://archive.example.test/debian-security
Suites: bookworm-security
Components: main
`;

describe("scripts/redis8.sh mirror", () => {
  it("reads the Debian archive of a deb822 .sources file, skipping security and other repositories", () => {
    const other = "Types: deb\nURIs: https://repo.example.test/node_20.x\nSuites: nodistro\nComponents: main\n";
    expect(mirror({ "sources.list.d/a-other.sources": other, "sources.list.d/debian.sources": deb822 })).toEqual({
      code: 0,
      out: "http://archive.example.test/debian",
      err: "",
    });
  });

  it("reads a one-line sources.list", () => {
    const list =
      "deb http://security.example.test/debian-security bookworm-security main\n" +
      "deb [arch=amd64] http://mirror.example.test/debian/ bookworm main\n";
    expect(mirror({ "sources.list": list }).out).toBe("http://mirror.example.test/debian");
  });

  it("lets REDIS8_MIRROR win, and says what to do when nothing is found", () => {
    expect(
      mirror({ "sources.list.d/debian.sources": deb822 }, { REDIS8_MIRROR: "http://own.example.test/debian" }).out,
    ).toBe("http://own.example.test/debian");
    const none = mirror({});
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no Debian archive/);
  });
});
