import type { PackageManager } from './package-set';

/** The exit status of the build program when a package manager failed, by manager. */
export const PACKAGE_MANAGER_EXIT_STATUS: Record<PackageManager, number> = { apt: 11, pip: 12, npm: 13 };

/** What the build program reads from its one argument (JSON). */
export interface PackageBuildSpec {
  apt: string[];
  pip: string[];
  npm: string[];
  /** A CA bundle in the build container for pip and npm (https registries behind a private CA), or `null`. */
  caBundle: string | null;
}

/**
 * The Python program that installs a package set as root in a build container (python3 is in every Keel sandbox
 * image). It runs the managers with argument lists, never a shell: apt (`apt-get update`, then
 * `apt-get install -y --no-install-recommends`, with `python3-pip` added when pip packages are listed and pip is
 * missing, and `nodejs npm` when npm packages are listed and npm is missing), then `pip install` (system-wide,
 * allowed past Debian's externally-managed guard), then `npm install -g`. It prints each command, merges the
 * managers' output into stdout, exits with `PACKAGE_MANAGER_EXIT_STATUS` of the first manager that fails, and leaves no
 * apt lists or caches behind in the image.
 */
export const PACKAGE_BUILD_PROGRAM = String.raw`
import json, os, shutil, subprocess, sys

spec = json.loads(sys.argv[1])
status = {"apt": ${PACKAGE_MANAGER_EXIT_STATUS.apt}, "pip": ${PACKAGE_MANAGER_EXIT_STATUS.pip}, "npm": ${PACKAGE_MANAGER_EXIT_STATUS.npm}}
env = dict(os.environ)
env.update({
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_BREAK_SYSTEM_PACKAGES": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_NO_CACHE_DIR": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_PROGRESS_BAR": "off",
    "npm_config_cache": "/tmp/npm-cache",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
})
ca = spec.get("caBundle")
if ca:
    env.update({"PIP_CERT": ca, "REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": ca, "NODE_EXTRA_CA_CERTS": ca, "npm_config_cafile": ca})

def run(manager, argv):
    print("keel: " + " ".join(argv), flush=True)
    code = subprocess.call(argv, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if code != 0:
        print("keel: %s exited with status %d" % (manager, code), flush=True)
        sys.exit(status[manager])

def has_pip():
    return subprocess.call(["python3", "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0

apt = list(spec["apt"])
if spec["pip"] and not has_pip():
    apt.append("python3-pip")
if spec["npm"] and shutil.which("npm") is None:
    apt += ["nodejs", "npm"]
if apt:
    run("apt", ["apt-get", "update", "-o", "Acquire::Languages=none"])
    run("apt", ["apt-get", "install", "-y", "--no-install-recommends"] + apt)
if spec["pip"]:
    run("pip", ["python3", "-m", "pip", "install"] + spec["pip"])
if spec["npm"]:
    run("npm", ["npm", "install", "-g"] + spec["npm"])
subprocess.call(["apt-get", "clean"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for leftover in ["/var/lib/apt/lists", "/root/.cache", "/root/.npm"]:
    shutil.rmtree(leftover, ignore_errors=True)
os.makedirs("/var/lib/apt/lists/partial", exist_ok=True)
print("keel: packages installed", flush=True)
`;
