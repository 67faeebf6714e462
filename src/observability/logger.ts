// Structured JSON logs (pino). Anything that looks like key material is redacted by path.
import pino from "pino";

export function makeLogger(level: string): pino.Logger {
  return pino({
    level,
    base: { app: "talos-upgrade-operator" },
    redact: {
      paths: ["*.key", "*.crt", "*.ca", "*.token", "*.privateKey", "talosconfig"],
      censor: "[redacted]",
    },
  });
}

export type Logger = pino.Logger;
