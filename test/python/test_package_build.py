"""Tests of keel_package_build's parts that need no package manager: its environment and its exit statuses."""

import contextlib
import io
import os
import sys
import unittest
from unittest import mock

import keel_package_build as build
from keel_constants import PACKAGE_MANAGER_EXIT_STATUS


class PackageBuildTest(unittest.TestCase):
    def test_the_environment_turns_off_prompts_and_caches_and_points_every_manager_at_the_ca_bundle(self):
        with mock.patch.dict(os.environ, {'PATH': '/usr/bin'}, clear=True):
            plain = build.environment_for({'caBundle': None})
        self.assertEqual(plain['PATH'], '/usr/bin')
        self.assertEqual(plain['DEBIAN_FRONTEND'], 'noninteractive')
        self.assertEqual(plain['PIP_BREAK_SYSTEM_PACKAGES'], '1')
        self.assertFalse('PIP_CERT' in plain, 'PIP_CERT is set without a CA bundle')
        with_ca = build.environment_for({'caBundle': '/tmp/keel-build/ca.crt'})
        for name in ('PIP_CERT', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'npm_config_cafile'):
            self.assertEqual(with_ca[name], '/tmp/keel-build/ca.crt')

    def test_a_failing_manager_stops_the_build_with_its_own_exit_status_after_naming_it(self):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), self.assertRaises(SystemExit) as raised:
            build.run('pip', [sys.executable, '-c', 'raise SystemExit(4)'], {})
        self.assertEqual(raised.exception.code, PACKAGE_MANAGER_EXIT_STATUS['pip'])
        self.assertIn('keel: pip exited with status 4', printed.getvalue())

    def test_a_manager_that_succeeds_lets_the_build_go_on(self):
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertIsNone(build.run('npm', [sys.executable, '-c', 'pass'], {}))


if __name__ == '__main__':
    unittest.main()
