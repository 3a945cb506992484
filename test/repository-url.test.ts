import { describe, expect, it } from 'vitest';
import { parseConfig } from '../common/config';
import { checkRepositoryUrl, parseRepositoryHosts } from '../common/repository-url';

const refused = (url: string, hosts: string[] = []): string => {
  const check = checkRepositoryUrl(url, hosts);
  if (check.ok) throw new Error(`${url} was accepted`);
  return check.problem;
};

describe('checkRepositoryUrl: where Keel clones from', () => {
  it('accepts https://github.com/<owner>/<repo>[.git] and names the repository without .git', () => {
    expect(checkRepositoryUrl('https://github.com/acme/app', [])).toEqual({ ok: true, name: 'app' });
    expect(checkRepositoryUrl('https://github.com/acme/app.git', [])).toEqual({ ok: true, name: 'app' });
    expect(checkRepositoryUrl('https://github.com/acme/my.repo_2/', [])).toEqual({ ok: true, name: 'my.repo_2' });
    expect(checkRepositoryUrl('https://GitHub.com/Acme/App', [])).toEqual({ ok: true, name: 'App' });
  });

  it('refuses other GitHub URLs: http, another port, no repository, deeper paths, credentials, queries', () => {
    expect(refused('http://github.com/acme/app')).toContain('https');
    expect(refused('https://github.com:8443/acme/app')).toContain('not a repository host');
    expect(refused('https://github.com/acme')).toContain('<owner>/<repo>');
    expect(refused('https://github.com/acme/app/tree/main')).toContain('<owner>/<repo>');
    expect(refused('https://github.com/acme/.git')).toContain('<owner>/<repo>');
    expect(refused('https://user:token@github.com/acme/app')).toContain('authorization_token');
    expect(refused('https://github.com/acme/app?x=1')).toContain('query');
    expect(refused('git@github.com:acme/app.git')).toContain('https');
    expect(refused('ssh://git@github.com/acme/app')).toContain('https');
    expect(refused('file:///etc/passwd')).toContain('https');
    expect(refused('not a url')).toContain('https://github.com/owner/repo');
  });

  it('accepts listed hosts over https, and over http only on loopback', () => {
    const hosts = ['git.example.com', '127.0.0.1:8080', 'localhost:9000', '[::1]:7000', '10.0.0.5'];
    expect(checkRepositoryUrl('https://git.example.com/group/sub/app.git', hosts)).toEqual({ ok: true, name: 'app' });
    expect(checkRepositoryUrl('http://127.0.0.1:8080/acme/app.git', hosts)).toEqual({ ok: true, name: 'app' });
    expect(checkRepositoryUrl('http://localhost:9000/acme/app', hosts)).toEqual({ ok: true, name: 'app' });
    expect(checkRepositoryUrl('http://[::1]:7000/acme/app', hosts)).toEqual({ ok: true, name: 'app' });
    expect(refused('http://git.example.com/acme/app', hosts)).toContain('loopback');
    expect(refused('http://10.0.0.5/acme/app', hosts)).toContain('loopback');
    expect(refused('http://127.0.0.1:8081/acme/app', hosts)).toContain('KEEL_REPOSITORY_HOSTS');
    expect(refused('https://gitlab.com/acme/app', hosts)).toContain('KEEL_REPOSITORY_HOSTS');
    expect(refused('https://git.example.com/app', hosts)).toContain('<owner>/<repo>');
    expect(refused('https://git.example.com/acme/..', hosts)).toContain('<owner>/<repo>');
  });
});

describe('KEEL_REPOSITORY_HOSTS', () => {
  it('parses host[:port] entries separated by commas, and names a bad entry', () => {
    expect(parseRepositoryHosts('')).toEqual({ hosts: [] });
    expect(parseRepositoryHosts(' Git.Example.com , 127.0.0.1:8080,[::1]:7000,')).toEqual({
      hosts: ['git.example.com', '127.0.0.1:8080', '[::1]:7000'],
    });
    expect(parseRepositoryHosts('https://git.example.com')).toMatchObject({
      problem: expect.stringContaining('https'),
    });
    expect(parseRepositoryHosts('host:99999')).toMatchObject({ problem: expect.stringContaining('host:99999') });
    expect(parseConfig({}).repositories.hosts).toEqual([]);
    expect(parseConfig({ KEEL_REPOSITORY_HOSTS: 'git.example.com:8443' }).repositories.hosts).toEqual([
      'git.example.com:8443',
    ]);
    expect(() => parseConfig({ KEEL_REPOSITORY_HOSTS: 'a b' })).toThrow(/KEEL_REPOSITORY_HOSTS/);
  });
});
