import { describe, expect, it } from "vitest";
import { parseCommandLine, runCommand, UsageError, withUsage } from "../../../cli/command.js";

function stderr(): { write(text: string): void; text: string } {
  return {
    text: "",
    write(text: string) {
      this.text += text;
    },
  };
}

describe("the command wrapper", () => {
  it("returns the command's own exit code and writes nothing", async () => {
    const err = stderr();
    expect(await runCommand("cmd", "usage: cmd", err, async () => 1)).toBe(1);
    expect(err.text).toBe("");
  });

  it("a usage mistake: one line naming the command, exit 2; the usage only when asked", async () => {
    const err = stderr();
    expect(await runCommand("cmd", "usage: cmd", err, () => Promise.reject(new UsageError("--x: bad")))).toBe(2);
    expect(err.text).toBe("cmd: --x: bad\n");
    const withText = stderr();
    expect(await runCommand("cmd", "usage: cmd", withText, async () => withUsage(() => {
      throw new UsageError("--y: bad");
    }))).toBe(2);
    expect(withText.text).toBe("cmd: --y: bad\nusage: cmd\n");
  });

  it("anything else is not its business: thrown on, unchanged", async () => {
    const boom = new Error("boom");
    await expect(runCommand("cmd", "usage", stderr(), () => Promise.reject(boom))).rejects.toBe(boom);
    expect(() => withUsage(() => {
      throw boom;
    })).toThrow(boom);
  });

  it("parseCommandLine: the flags as node's parseArgs reads them; an unknown flag is a UsageError naming it, with parseArgs' error as cause", () => {
    expect(parseCommandLine({ args: ["--out", "x"], options: { out: { type: "string" } } }).values).toEqual({ out: "x" });
    let thrown: unknown;
    try {
      parseCommandLine({ args: ["--bogus"], options: { out: { type: "string" } } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toContain("Unknown option '--bogus'");
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });
});
