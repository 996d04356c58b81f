import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type BaseModelSource, createBaseModelFileSource, type SourceLog } from "./base-model-source.js";

const dirs: string[] = [];
const sources: BaseModelSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "body-router-"));
  dirs.push(dir);
  return dir;
}

function recordingLog() {
  const errors: object[] = [];
  const log: SourceLog = { info: () => {}, error: (fields) => errors.push(fields) };
  return { log, errors };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let k = 0; k < 200 && !check(); k++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

/** Lays out a directory the way the kubelet mounts a ConfigMap. */
async function configMapVersion(dir: string, version: string, text: string): Promise<void> {
  await mkdir(join(dir, `..${version}`));
  await writeFile(join(dir, `..${version}`, "models.yaml"), text);
  await symlink(`..${version}`, join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
}

describe("createBaseModelFileSource()", () => {
  it("loads the file", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "m.yaml"), "- baseModel: b\n  adapters: [l]\n");
    const source = await createBaseModelFileSource({
      path: join(dir, "m.yaml"),
      log: recordingLog().log,
      pollIntervalMs: 0,
    });
    sources.push(source);
    expect([source.lookup("l"), source.lookup("b"), source.lookup("x")]).toEqual(["b", "b", undefined]);
  });

  it("rejects a bad file at startup", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "m.yaml"), "- adapters: [l]\n");
    await expect(
      createBaseModelFileSource({ path: join(dir, "m.yaml"), log: recordingLog().log, pollIntervalMs: 0 }),
    ).rejects.toThrow(/baseModel/);
  });

  it("reloads when a ConfigMap symlink swap changes the file", async () => {
    const dir = await tempDir();
    await configMapVersion(dir, "v1", "- baseModel: b1\n  adapters: [l]\n");
    await symlink("..data/models.yaml", join(dir, "models.yaml"));
    const results: string[] = [];
    const source = await createBaseModelFileSource({
      path: join(dir, "models.yaml"),
      log: recordingLog().log,
      pollIntervalMs: 50,
      onReload: (r) => results.push(r),
    });
    sources.push(source);
    expect(source.lookup("l")).toBe("b1");
    await configMapVersion(dir, "v2", "- baseModel: b2\n  adapters: [l]\n");
    await waitFor(() => source.lookup("l") === "b2");
    expect(results).toEqual(["ok", "ok"]);
  });

  it("keeps the last good mapping when the new file is invalid, and logs it", async () => {
    const dir = await tempDir();
    const path = join(dir, "m.yaml");
    await writeFile(path, "- baseModel: b\n  adapters: [l]\n");
    const { log, errors } = recordingLog();
    const source = await createBaseModelFileSource({ path, log, pollIntervalMs: 50 });
    sources.push(source);
    await writeFile(path, "- baseModel: [broken\n");
    await waitFor(() => errors.length > 0);
    expect(source.lookup("l")).toBe("b");
    expect(errors[0]).toMatchObject({ path });
    await writeFile(path, "- baseModel: c\n  adapters: [l]\n");
    await waitFor(() => source.lookup("l") === "c");
  });

  it("keeps the last good mapping when the file becomes empty", async () => {
    const dir = await tempDir();
    const path = join(dir, "m.yaml");
    await writeFile(path, "- baseModel: b\n");
    const { log, errors } = recordingLog();
    const source = await createBaseModelFileSource({ path, log, pollIntervalMs: 0 });
    sources.push(source);
    await writeFile(path, "");
    await source.refresh();
    expect(source.lookup("b")).toBe("b");
    expect(errors).toEqual([{ path, error: "file is empty (a write in progress?)" }]);
  });

  it("keeps the last good mapping while the file is missing", async () => {
    const dir = await tempDir();
    const path = join(dir, "m.yaml");
    await writeFile(path, "- baseModel: b\n");
    const { log, errors } = recordingLog();
    const source = await createBaseModelFileSource({ path, log, pollIntervalMs: 0 });
    sources.push(source);
    await rm(path);
    await source.refresh();
    expect(source.lookup("b")).toBe("b");
    expect(errors.length).toBeGreaterThan(0);
  });
});
