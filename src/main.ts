// Process entry: settings → logger → manager. SIGTERM and SIGINT stop it cleanly.
import packageJson from "../package.json" with { type: "json" };
import { runManager } from "./manager.ts";
import { makeLogger } from "./observability/logger.ts";
import { loadSettings, settingsHelp } from "./settings.ts";

const { version } = packageJson;

const usage = `talos-upgrade-operator ${version}
Orchestrates Talos Linux upgrades declared in TalosUpgradePlan resources.

Usage: talos-upgrade-operator [--version | --help]

Settings come from the environment:
${settingsHelp()}`;

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(`${version}\n`);
} else if (args.includes("--help")) {
  process.stdout.write(`${usage}\n`);
} else {
  const loaded = loadSettings(process.env);
  if (!loaded.ok) {
    process.stderr.write(`talos-upgrade-operator: ${loaded.message}\n`);
    process.exit(2);
  }
  const logger = makeLogger(loaded.settings.logLevel);
  // Signals are handled from the start: a stop while starting up exits at once, since nothing has
  // been acted on yet; later, the manager drains its queue and hands back its lease first.
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping");
      void (stop ?? (async () => undefined))().then(() => process.exit(0));
    });
  }
  runManager(loaded.settings, logger, version).then(
    (started) => {
      stop = started;
    },
    (error: unknown) => {
      logger.fatal({ error: error instanceof Error ? error.message : String(error) }, "cannot start");
      process.exit(1);
    },
  );
}
