// plugin.ts: a test plugin written with Extism's AssemblyScript PDK
// (@extism/as-pdk from npm), compiled by tests/cli/pdk.sh: proof that a
// plugin built with a real PDK runs unchanged under wharf.
import { Config, Host, Var } from "@extism/as-pdk";

// Aborts (failed assertions, bad casts) become a trap.
export function onAbort(message: string | null, fileName: string | null,
                        line: u32, column: u32): void {
  unreachable();
}

// {"count":N,"seen":M,"thing":"..."}: the vowels of the input; M is the
// same count after a round trip through a variable; thing is config.
export function count_vowels(): i32 {
  const text = Host.inputString();
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i).toLowerCase();
    if (c == "a" || c == "e" || c == "i" || c == "o" || c == "u") count++;
  }
  Var.set("seen", Uint8Array.wrap(String.UTF8.encode(count.toString())));
  const seen = Var.getString("seen");
  const thing = Config.get("thing");
  Host.outputString('{"count":' + count.toString() +
                    ',"seen":' + (seen === null ? "null" : seen) +
                    ',"thing":"' + (thing === null ? "none" : thing) + '"}');
  return 0;
}

// The input reversed, through the byte-level input and output calls.
export function reverse(): i32 {
  const input = Host.input();
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = input[input.length - 1 - i];
  Host.output(out);
  return 0;
}
