"""Installs a package set as root in a build container (python3 is in every Keel sandbox image); its one argument is
the `PackageBuildSpec` as JSON.

It runs the managers with argument lists, never a shell: apt (`apt-get update`, then
`apt-get install -y --no-install-recommends`, with `python3-pip` added when pip packages are listed and pip is missing,
and `nodejs npm` when npm packages are listed and npm is missing), then `pip install` (system-wide, allowed past
Debian's externally-managed guard), then `npm install -g`. It prints each command, merges the managers' output into
stdout, exits with the `PACKAGE_MANAGER_EXIT_STATUS` of the first manager that fails, and leaves no apt lists or caches
behind in the image.
"""

import json
import os
import shutil
import subprocess
import sys

from keel_constants import PACKAGE_MANAGER_EXIT_STATUS


def environment_for(spec):
    env = dict(os.environ)
    env.update(
        {
            'DEBIAN_FRONTEND': 'noninteractive',
            'PIP_BREAK_SYSTEM_PACKAGES': '1',
            'PIP_ROOT_USER_ACTION': 'ignore',
            'PIP_NO_CACHE_DIR': '1',
            'PIP_DISABLE_PIP_VERSION_CHECK': '1',
            'PIP_PROGRESS_BAR': 'off',
            'npm_config_cache': '/tmp/npm-cache',
            'npm_config_update_notifier': 'false',
            'npm_config_fund': 'false',
            'npm_config_audit': 'false',
        }
    )
    ca = spec.get('caBundle')
    if ca:
        env.update(
            {
                'PIP_CERT': ca,
                'REQUESTS_CA_BUNDLE': ca,
                'SSL_CERT_FILE': ca,
                'NODE_EXTRA_CA_CERTS': ca,
                'npm_config_cafile': ca,
            }
        )
    return env


def run(manager, argv, env):
    print('keel: ' + ' '.join(argv), flush=True)
    code = subprocess.call(argv, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if code != 0:
        print('keel: %s exited with status %d' % (manager, code), flush=True)
        sys.exit(PACKAGE_MANAGER_EXIT_STATUS[manager])


def has_pip():
    quiet = {'stdout': subprocess.DEVNULL, 'stderr': subprocess.DEVNULL}
    return subprocess.call(['python3', '-m', 'pip', '--version'], **quiet) == 0


def main():
    spec = json.loads(sys.argv[1])
    env = environment_for(spec)
    apt = list(spec['apt'])
    if spec['pip'] and not has_pip():
        apt.append('python3-pip')
    if spec['npm'] and shutil.which('npm') is None:
        apt += ['nodejs', 'npm']
    if apt:
        run('apt', ['apt-get', 'update', '-o', 'Acquire::Languages=none'], env)
        run('apt', ['apt-get', 'install', '-y', '--no-install-recommends'] + apt, env)
    if spec['pip']:
        run('pip', ['python3', '-m', 'pip', 'install'] + spec['pip'], env)
    if spec['npm']:
        run('npm', ['npm', 'install', '-g'] + spec['npm'], env)
    subprocess.call(['apt-get', 'clean'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for leftover in ['/var/lib/apt/lists', '/root/.cache', '/root/.npm']:
        shutil.rmtree(leftover, ignore_errors=True)
    os.makedirs('/var/lib/apt/lists/partial', exist_ok=True)
    print('keel: packages installed', flush=True)


if __name__ == '__main__':
    main()
