import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ipaddr from 'ipaddr.js';
import { parseAllDocuments } from 'yaml';
import { defaultHealthPort } from '../../../engine/agent/health-server.ts';
import { memoryPerTransactionBytes, reservedMemoryBytes, transactionsPerCpu } from '../../../engine/core/capacity.ts';

// The deployment files are checked for the properties docs/deploy.md promises: probes, a non-root user that
// keeps Chromium's sandbox, resources sized from the benchmark, secrets from Secrets, and a NetworkPolicy that
// lets a checkpoint reach only the control plane, DNS and the monitored ranges.

const root = join(import.meta.dirname, '..', '..', '..');
const k8sDir = join(root, 'deploy', 'kubernetes');

type Json = Record<string, unknown>;

function loadYaml(path: string): Json[] {
  // Compose files use YAML merge keys (`<<: *anchor`), as Docker Compose reads them.
  const documents = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${path}: YAML errors`);
    return document.toJS() as Json;
  });
}

const kustomization = loadYaml(join(k8sDir, 'kustomization.yaml'))[0] as { resources: string[] };
const objects = kustomization.resources.flatMap((file) => loadYaml(join(k8sDir, file)));

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Json }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Json;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] }; privileged?: boolean };
}
interface Deployment {
  kind: 'Deployment';
  metadata: { name: string };
  spec: {
    replicas: number;
    strategy?: { type?: string };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        automountServiceAccountToken?: boolean;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
        containers: Container[];
        volumes?: { name: string; emptyDir?: { medium?: string } }[];
      };
    };
  };
}

const deployments = objects.filter((object): object is Json & Deployment => object['kind'] === 'Deployment');
const deployment = (name: string): Deployment => {
  const found = deployments.find((candidate) => candidate.metadata.name === name);
  assert.ok(found, `a Deployment named ${name}`);
  return found;
};

/** Kubernetes quantities: "2", "250m", "1Gi", "1536Mi". */
function cpuOf(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
function bytesOf(quantity: string): number {
  const units: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  assert.ok(match, `a memory quantity, got ${quantity}`);
  return Number(match[1]) * (match[2] === undefined ? 1 : (units[match[2]] ?? 1));
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('lists files that exist and defines the control plane, the checkpoint and their network policies', () => {
    for (const file of kustomization.resources) assert.ok(existsSync(join(k8sDir, file)), `${file} exists`);
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['checkpoint', 'control-plane']);
    assert.ok(objects.some((object) => object['kind'] === 'Service'));
    assert.ok(objects.filter((object) => object['kind'] === 'NetworkPolicy').length >= 1);
  });

  for (const name of ['checkpoint', 'control-plane']) {
    it(`${name}: runs as the image's non-root user with no privilege, capability or service-account token`, () => {
      const pod = deployment(name).spec.template.spec;
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      // The Dockerfile creates this user; a different number would run Chromium as a user without a home.
      assert.equal(pod.securityContext?.runAsUser, 10001);
      assert.match(readFileSync(join(root, 'Dockerfile'), 'utf8'), /--uid 10001/);
      // Never Unconfined: the checkpoint needs a profile that allows user namespaces for Chromium's sandbox.
      assert.ok(['RuntimeDefault', 'Localhost'].includes(pod.securityContext?.seccompProfile?.type ?? 'Unconfined'));
      for (const container of pod.containers) {
        assert.equal(container.securityContext?.allowPrivilegeEscalation, false, `${container.name}: allowPrivilegeEscalation`);
        assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${container.name}: readOnlyRootFilesystem`);
        assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL'], `${container.name}: capabilities`);
        assert.notEqual(container.securityContext?.privileged, true);
      }
    });

    it(`${name}: has startup, liveness and readiness probes on a port it exposes, and resource requests and a memory limit`, () => {
      for (const container of deployment(name).spec.template.spec.containers) {
        assert.ok(container.startupProbe, `${container.name}: startupProbe`);
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
          assert.ok(probe?.httpGet, `${container.name}: an HTTP probe`);
          const port = probe.httpGet.port;
          assert.ok(container.ports?.some((p) => p.name === port || p.containerPort === port), `${container.name}: probe port ${String(port)} is exposed`);
        }
        assert.ok(container.resources?.requests?.cpu !== undefined && container.resources.requests.memory !== undefined, `${container.name}: requests`);
        assert.ok(container.resources.limits?.memory !== undefined, `${container.name}: memory limit`);
        assert.ok(bytesOf(container.resources.limits.memory) >= bytesOf(container.resources.requests.memory));
      }
    });

    it(`${name}: takes every token from a Secret, never from a literal value`, () => {
      for (const container of deployment(name).spec.template.spec.containers) {
        for (const variable of container.env ?? []) {
          // A *_FILE variable names a mounted file (from a Secret), not a value.
          if (/TOKEN|PASSWORD|SECRET/.test(variable.name) && !variable.name.endsWith('_FILE')) {
            assert.equal(variable.value, undefined, `${variable.name} must not be a literal`);
            assert.ok(variable.valueFrom?.['secretKeyRef'], `${variable.name} comes from a Secret`);
          }
        }
      }
    });
  }

  it('checkpoint: at least two instances, Chromium with its sandbox, sized from the capacity model', () => {
    const spec = deployment('checkpoint').spec;
    // A failed run is retried on another instance before it alerts: one instance cannot do that.
    assert.ok(spec.replicas >= 2);
    const agent = spec.template.spec.containers[0];
    assert.ok(agent);
    const text = JSON.stringify(spec);
    assert.doesNotMatch(text, /no-sandbox|ALLOW_NO_SANDBOX/i, 'the sandbox stays on');
    assert.equal(agent.ports?.find((port) => port.name === 'health')?.containerPort, defaultHealthPort);
    // Probes reach the pod's address, so the health server must listen on more than loopback.
    assert.equal(agent.env?.find((variable) => variable.name === 'CHECKPOINT_HEALTH_HOST')?.value, '0.0.0.0');
    assert.equal(agent.readinessProbe?.httpGet?.path, '/readyz');
    // The default concurrency a pod gets from its CPUs must fit in the memory it asks for.
    const cpus = cpuOf(agent.resources?.requests?.cpu ?? '0');
    const concurrency = Math.floor(cpus * transactionsPerCpu);
    assert.ok(concurrency >= 2);
    assert.ok(bytesOf(agent.resources?.requests?.memory ?? '0') >= reservedMemoryBytes + concurrency * memoryPerTransactionBytes);
    // Script secrets come from a Secret mounted as the agent's secrets file (NAME=value lines), not through envFrom:
    // the agent gives scripts only what its operator listed, never its environment.
    assert.doesNotMatch(JSON.stringify(agent), /envFrom/);
    assert.match(agent.env?.find((variable) => variable.name === 'CHECKPOINT_SECRETS_FILE')?.value ?? '', /^\/etc\/checkpoint\/secrets\//);
    // Chromium's shared memory: the container default (64 MiB) crashes renderers under load.
    assert.ok(spec.template.spec.volumes?.some((volume) => volume.emptyDir?.medium === 'Memory'));
  });

  it('control plane: one replica replaced, never overlapped, while its store is one SQLite file', () => {
    const spec = deployment('control-plane').spec;
    assert.equal(spec.replicas, 1);
    assert.equal(spec.strategy?.type, 'Recreate');
    const args = spec.template.spec.containers[0]?.args ?? [];
    // Bound beyond loopback: an admin token (from the Secret above) and a Host allow-list are required.
    assert.ok(args.includes('--allowed-host'));
    assert.ok(args.includes('--tls-cert') && args.includes('--tls-key'));
  });

  it('NetworkPolicy: a checkpoint reaches only the control plane, DNS and the monitored ranges, never link-local or metadata addresses', () => {
    const checkpointLabels = deployment('checkpoint').spec.template.metadata.labels;
    const policies = objects.filter((object) => object['kind'] === 'NetworkPolicy') as unknown as {
      spec: { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[]; egress?: { to?: Json[]; ports?: Json[] }[] };
    }[];
    const selecting = policies.filter((policy) => Object.entries(policy.spec.podSelector.matchLabels ?? {}).every(([key, value]) => checkpointLabels[key] === value));
    assert.ok(selecting.length >= 1, 'a policy selects the checkpoint pods');
    for (const policy of selecting) {
      assert.ok(policy.spec.policyTypes.includes('Egress'), 'egress is restricted');
      for (const rule of policy.spec.egress ?? []) {
        // An empty `to` allows every destination.
        assert.ok(rule.to !== undefined && rule.to.length > 0, 'every egress rule names its destinations');
        for (const peer of rule.to) {
          const block = peer['ipBlock'] as { cidr: string; except?: string[] } | undefined;
          if (block === undefined) continue;
          const range = ipaddr.parseCIDR(block.cidr);
          for (const forbidden of ['169.254.169.254', '169.254.0.1', '127.0.0.1']) {
            const address = ipaddr.parse(forbidden);
            const inRange = address.kind() === range[0].kind() && address.match(range);
            const excepted = (block.except ?? []).some((cidr) => address.match(ipaddr.parseCIDR(cidr)));
            assert.ok(!inRange || excepted, `${block.cidr} must not let the checkpoint reach ${forbidden}`);
          }
          assert.notEqual(block.cidr, '0.0.0.0/0', 'no egress to everywhere');
        }
      }
    }
  });
});

describe('Docker Compose file (deploy/compose)', () => {
  const compose = loadYaml(join(root, 'deploy', 'compose', 'compose.yaml'))[0] as {
    services: Record<string, { user?: string; read_only?: boolean; cap_drop?: string[]; security_opt?: string[]; ports?: string[]; shm_size?: string; environment?: Record<string, string>; command?: string[] }>;
  };

  it('runs every service as the non-root user, read-only, without capabilities, and publishes on loopback only', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      assert.equal(service.user, '10001:10001', `${name}: user`);
      assert.equal(service.read_only, true, `${name}: read_only`);
      assert.deepEqual(service.cap_drop, ['ALL'], `${name}: cap_drop`);
      assert.ok(service.security_opt?.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port} is published on loopback`);
      assert.doesNotMatch(JSON.stringify(service), /no-sandbox|ALLOW_NO_SANDBOX/i);
    }
  });

  it('gives Chromium shared memory and takes tokens from the environment file, not the compose file', () => {
    const checkpoint = compose.services['checkpoint'];
    assert.ok(checkpoint?.shm_size);
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (/TOKEN/.test(name)) assert.match(value, /^\$\{[A-Z_]+:\?/, `${name} is required from .env, never written here`);
      }
    }
  });
});
