import type Docker from 'dockerode';

/** What the sandbox Activities need from the worker: the Docker client, the image and the hardening limits. */
export interface SandboxOptions {
  docker: Docker;
  /** Image of every sandbox container (a tag or an id). */
  image: string;
  /** Memory limit of a container, in bytes; swap is disabled by giving the same value as the swap limit. */
  memoryBytes: number;
  /** CPU limit of a container, in billionths of a CPU (`1e9` is one CPU). */
  nanoCpus: number;
  /** Maximum number of processes (and threads) in a container. */
  pidsLimit: number;
  /** Default and upper bound of a command's timeout; a `bash` call's `timeout_ms` can only shorten it. */
  commandTimeoutMs: number;
  /** Bytes of output a tool returns at most; longer output keeps its head and tail around a cut marker. */
  maxOutputBytes: number;
  /** Keel's data folder, where uploaded files' content lies (mounted read-only into sessions that use them). */
  dataDir: string;
  /** Docker network mode of a container: `none` unless the environment allows the network. */
  network: 'none' | 'bridge';
}
