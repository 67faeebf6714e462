// Process entry. The manager (informers, leader election, reconcile loop) lands with the
// TalosUpgradePlan controller; until then the binary answers --version and --help only.
import packageJson from "../package.json" with { type: "json" };

const { version } = packageJson;

const usage = `talos-upgrade-operator ${version}
Orchestrates Talos Linux upgrades declared in TalosUpgradePlan resources.

Usage: talos-upgrade-operator [--version | --help]`;

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(`${version}\n`);
} else if (args.includes("--help")) {
  process.stdout.write(`${usage}\n`);
} else {
  process.stderr.write(`${usage}\n\nThe operator's manager is not part of this build yet.\n`);
  process.exitCode = 2;
}
