import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ipaddr from 'ipaddr.js';
import { parseAllDocuments } from 'yaml';
import { defaultLeaderLeaseMs } from '../../../control-plane/cluster/start-cluster.ts';
import { defaultHealthPort } from '../../../engine/agent/health-server.ts';
import { memoryPerTransactionBytes, reservedMemoryBytes, transactionsPerCpu } from '../../../engine/core/capacity.ts';

// The deployment files are checked for the properties docs/deploy.md promises: probes, a non-root user that
// keeps Chromium's sandbox, resources sized from the benchmark, secrets from Secrets, a control plane of several
// replicas on PostgreSQL (and a one-replica SQLite variant), and NetworkPolicies that let a checkpoint reach only
// the control plane, DNS and the monitored ranges, and the control plane only DNS, its database and alert
// destinations, never link-local or cloud-metadata addresses.

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

interface Kustomization {
  resources: string[];
  images?: Json[];
}

/** The objects a kustomization lists, following directories (other kustomizations) as `kubectl kustomize` does. */
function loadKustomization(dir: string): Json[] {
  const kustomization = loadYaml(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  return kustomization.resources.flatMap((resource) => {
    const path = join(dir, resource);
    assert.ok(existsSync(path), `${path} (listed in ${join(dir, 'kustomization.yaml')}) exists`);
    return statSync(path).isDirectory() ? loadKustomization(path) : loadYaml(path);
  });
}

/** The scalable default (several replicas on PostgreSQL) and the one-replica SQLite variant for small installs. */
const variants = {
  postgres: { dir: k8sDir, objects: loadKustomization(k8sDir) },
  sqlite: { dir: join(k8sDir, 'sqlite'), objects: loadKustomization(join(k8sDir, 'sqlite')) },
};
type VariantName = keyof typeof variants;
const variantNames = Object.keys(variants) as VariantName[];

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
    strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        automountServiceAccountToken?: boolean;
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
        affinity?: { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: AffinityTerm }[]; requiredDuringSchedulingIgnoredDuringExecution?: AffinityTerm[] } };
        containers: (Container & { volumeMounts?: { name: string; mountPath: string }[]; lifecycle?: { preStop?: { sleep?: { seconds: number } } } })[];
        volumes?: { name: string; emptyDir?: { medium?: string }; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}
interface AffinityTerm {
  topologyKey: string;
  labelSelector?: { matchLabels?: Record<string, string> };
}
interface NetworkPolicy {
  metadata: { name: string };
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    egress?: { to?: Json[]; ports?: { protocol?: string; port?: number | string }[] }[];
  };
}

const deploymentsOf = (variant: VariantName) => variants[variant].objects.filter((object): object is Json & Deployment => object['kind'] === 'Deployment');
const deployment = (name: string, variant: VariantName = 'postgres'): Deployment => {
  const found = deploymentsOf(variant).find((candidate) => candidate.metadata.name === name);
  assert.ok(found, `a Deployment named ${name} in the ${variant} variant`);
  return found;
};
const objectsOf = (variant: VariantName, kind: string): Json[] => variants[variant].objects.filter((object) => object['kind'] === kind);
/** Whether a label selector picks pods with these labels. */
const selects = (matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  Object.entries(matchLabels ?? {}).every(([key, value]) => labels[key] === value);
/** The NetworkPolicies that apply to a Deployment's pods. */
const policiesFor = (name: string, variant: VariantName): NetworkPolicy[] => {
  const labels = deployment(name, variant).spec.template.metadata.labels;
  return (objectsOf(variant, 'NetworkPolicy') as unknown as NetworkPolicy[]).filter((policy) => selects(policy.spec.podSelector.matchLabels, labels));
};
const argValue = (args: readonly string[], flag: string): string | undefined => {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : args[index + 1];
};
/** The PersistentVolumeClaim mounted at the control plane's --data directory. */
function dataClaim(variant: VariantName): { spec: { accessModes: string[] } } {
  const pod = deployment('control-plane', variant).spec.template.spec;
  const container = pod.containers[0];
  assert.ok(container);
  const dataDir = argValue(container.args ?? [], '--data');
  assert.ok(dataDir, '--data is given');
  const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === dataDir);
  assert.ok(mount, `a volume is mounted at --data ${dataDir}`);
  const claimName = pod.volumes?.find((volume) => volume.name === mount.name)?.persistentVolumeClaim?.claimName;
  assert.ok(claimName, `${dataDir} is a PersistentVolumeClaim`);
  const claim = objectsOf(variant, 'PersistentVolumeClaim').find((object) => (object['metadata'] as { name: string }).name === claimName);
  assert.ok(claim, `the claim ${claimName} is defined`);
  return claim as unknown as { spec: { accessModes: string[] } };
}

/** Every egress rule names its destinations, and no address block reaches link-local, metadata, loopback or everywhere. */
function assertNoForbiddenEgress(policy: NetworkPolicy): void {
  const name = policy.metadata.name;
  for (const rule of policy.spec.egress ?? []) {
    // An empty `to` allows every destination.
    assert.ok(rule.to !== undefined && rule.to.length > 0, `${name}: every egress rule names its destinations`);
    for (const peer of rule.to) {
      const block = peer['ipBlock'] as { cidr: string; except?: string[] } | undefined;
      if (block === undefined) continue;
      const range = ipaddr.parseCIDR(block.cidr);
      assert.ok(range[1] >= 8, `${name}: ${block.cidr} is no egress to (nearly) everywhere`);
      for (const forbidden of ['169.254.169.254', '169.254.0.1', '127.0.0.1', 'fd00:ec2::254', 'fe80::1', '::1']) {
        const address = ipaddr.parse(forbidden);
        const inRange = address.kind() === range[0].kind() && address.match(range);
        const excepted = (block.except ?? []).some((cidr) => {
          const except = ipaddr.parseCIDR(cidr);
          return address.kind() === except[0].kind() && address.match(except);
        });
        assert.ok(!inRange || excepted, `${name}: ${block.cidr} must not reach ${forbidden}`);
      }
    }
  }
}

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
  for (const variant of variantNames) {
    it(`${variant}: defines the control plane, the checkpoint, the Service and their network policies`, () => {
      assert.deepEqual(deploymentsOf(variant).map((d) => d.metadata.name).sort(), ['checkpoint', 'control-plane']);
      assert.ok(objectsOf(variant, 'Service').length >= 1);
      assert.ok(policiesFor('checkpoint', variant).length >= 1, 'a NetworkPolicy selects the checkpoint pods');
      assert.ok(policiesFor('control-plane', variant).length >= 1, 'a NetworkPolicy selects the control-plane pods');
    });

    for (const name of ['checkpoint', 'control-plane']) {
      it(`${variant}, ${name}: runs as the image's non-root user with no privilege, capability or service-account token`, () => {
        const pod = deployment(name, variant).spec.template.spec;
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

      it(`${variant}, ${name}: has startup, liveness and readiness probes on a port it exposes, and resource requests and a memory limit`, () => {
        for (const container of deployment(name, variant).spec.template.spec.containers) {
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

      it(`${variant}, ${name}: takes every token, password and database URL from a Secret, never from a literal value or an argument`, () => {
        for (const container of deployment(name, variant).spec.template.spec.containers) {
          for (const variable of container.env ?? []) {
            // A *_FILE variable names a mounted file (from a Secret), not a value.
            if (/TOKEN|PASSWORD|SECRET|DATABASE_URL/.test(variable.name) && !variable.name.endsWith('_FILE')) {
              assert.equal(variable.value, undefined, `${variable.name} must not be a literal`);
              assert.ok(variable.valueFrom?.['secretKeyRef'], `${variable.name} comes from a Secret`);
            }
          }
          // Arguments show in the process list and the pod spec: no --database, no credentials in a URL.
          assert.ok(!(container.args ?? []).includes('--database'), `${container.name}: no --database argument`);
          assert.doesNotMatch(JSON.stringify(container), /postgres(ql)?:\/\//, `${container.name}: no database URL in the manifest`);
        }
      });
    }

    it(`${variant}: the control plane serves TLS, answers only its own name, and probes /healthz`, () => {
      const container = deployment('control-plane', variant).spec.template.spec.containers[0];
      assert.ok(container);
      const args = container.args ?? [];
      // Bound beyond loopback: an admin token (from the Secret above) and a Host allow-list are required.
      assert.ok(args.includes('--allowed-host'));
      assert.ok(args.includes('--tls-cert') && args.includes('--tls-key'));
      assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(container.readinessProbe?.httpGet?.path, '/healthz');
    });

    it(`${variant}: NetworkPolicy: a checkpoint reaches only the control plane, DNS and the monitored ranges, never link-local or metadata addresses`, () => {
      for (const policy of policiesFor('checkpoint', variant)) {
        assert.ok(policy.spec.policyTypes.includes('Egress'), `${policy.metadata.name}: egress is restricted`);
        assertNoForbiddenEgress(policy);
      }
    });

    it(`${variant}: NetworkPolicy: the control plane's egress is restricted too, never to link-local or metadata addresses`, () => {
      const policies = policiesFor('control-plane', variant);
      assert.ok(policies.some((policy) => policy.spec.policyTypes.includes('Egress')), 'a policy restricts the control plane\'s egress');
      for (const policy of policies) assertNoForbiddenEgress(policy);
    });
  }

  it('the checkpoint and the image are the same in both variants (one common base)', () => {
    assert.deepEqual(deployment('checkpoint', 'sqlite'), deployment('checkpoint', 'postgres'));
    const images = (dir: string) => (loadYaml(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization).images;
    assert.deepEqual(images(variants.sqlite.dir), images(variants.postgres.dir));
  });

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

  it('control plane (default): several replicas on PostgreSQL, rolled one at a time with none taken away first', () => {
    const spec = deployment('control-plane').spec;
    assert.ok(spec.replicas >= 2, `at least 2 replicas, got ${spec.replicas}`);
    assert.equal(spec.strategy?.type, 'RollingUpdate');
    // A new replica is ready before an old one stops; maxSurge must then be positive or the rollout never moves.
    assert.ok([0, '0%'].includes(spec.strategy.rollingUpdate?.maxUnavailable ?? 'unset'), 'maxUnavailable 0');
    const surge = spec.strategy.rollingUpdate?.maxSurge;
    assert.ok(typeof surge === 'number' ? surge >= 1 : surge !== undefined && Number.parseInt(surge, 10) > 0, 'maxSurge above 0');
    const pod = spec.template.spec;
    const container = pod.containers[0];
    assert.ok(container);
    const env = new Map((container.env ?? []).map((variable) => [variable.name, variable]));
    // PostgreSQL, or each replica would open its own SQLite file and the replicas would not be one cluster.
    assert.ok(env.get('CHECKPOINT_DATABASE_URL')?.valueFrom?.['secretKeyRef'], 'CHECKPOINT_DATABASE_URL from a Secret');
    // Each replica its own id, from the pod (downward API), never a value every replica would share.
    assert.deepEqual(env.get('CHECKPOINT_REPLICA_ID')?.valueFrom?.['fieldRef'], { fieldPath: 'metadata.name' });
    assert.ok(!(container.args ?? []).includes('--replica-id'));
    // Stopping hands the lease over and drains agent links: the grace period covers the preStop wait and a
    // whole lease (a release that fails leaves the lease to expire), so SIGKILL never cuts that short.
    const leaseMs = Number(argValue(container.args ?? [], '--leader-lease-ms') ?? defaultLeaderLeaseMs);
    const preStopSeconds = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    assert.ok((pod.terminationGracePeriodSeconds ?? 30) * 1000 >= preStopSeconds * 1000 + leaseMs + 10_000, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds ?? 30} covers preStop ${preStopSeconds} s and a ${leaseMs} ms lease`);
    // Artifacts are files under --data that every replica reads and writes.
    assert.ok(dataClaim('postgres').spec.accessModes.includes('ReadWriteMany'), 'the artifacts volume is ReadWriteMany');
  });

  it('control plane (default): spread over nodes, and voluntary disruptions leave a replica serving', () => {
    const spec = deployment('control-plane').spec;
    const labels = spec.template.metadata.labels;
    const antiAffinity = spec.template.spec.affinity?.podAntiAffinity;
    const terms = [...(antiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((term) => term.podAffinityTerm), ...(antiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [])];
    assert.ok(terms.some((term) => term.topologyKey === 'kubernetes.io/hostname' && Object.keys(term.labelSelector?.matchLabels ?? {}).length > 0 && selects(term.labelSelector?.matchLabels, labels)), 'pod anti-affinity on kubernetes.io/hostname against its own pods');
    const budgets = objectsOf('postgres', 'PodDisruptionBudget') as unknown as { spec: { minAvailable?: number; maxUnavailable?: number; selector: { matchLabels?: Record<string, string> } } }[];
    const budget = budgets.find((candidate) => selects(candidate.spec.selector.matchLabels, labels));
    assert.ok(budget, 'a PodDisruptionBudget selects the control-plane pods');
    // At least one serving, and fewer than all (else no node could ever be drained).
    assert.ok(budget.spec.minAvailable !== undefined && budget.spec.minAvailable >= 1 && budget.spec.minAvailable < spec.replicas, `minAvailable ${String(budget.spec.minAvailable)}`);
  });

  it('control plane (default): NetworkPolicy lets it reach its PostgreSQL server and cluster DNS', () => {
    const rules = policiesFor('control-plane', 'postgres').flatMap((policy) => policy.spec.egress ?? []);
    const allows = (port: number, protocol = 'TCP') =>
      rules.some((rule) => rule.to !== undefined && rule.to.length > 0 && (rule.ports ?? []).some((candidate) => candidate.port === port && (candidate.protocol ?? 'TCP') === protocol));
    assert.ok(allows(5432), 'egress to PostgreSQL (TCP 5432)');
    assert.ok(allows(53, 'UDP'), 'egress to DNS');
  });

  it('control plane (sqlite variant): exactly one replica, replaced never overlapped, on its own volume, with no database and no budget', () => {
    const spec = deployment('control-plane', 'sqlite').spec;
    assert.equal(spec.replicas, 1);
    assert.equal(spec.strategy?.type, 'Recreate');
    const container = spec.template.spec.containers[0];
    assert.ok(container);
    assert.ok(!(container.env ?? []).some((variable) => variable.name === 'CHECKPOINT_DATABASE_URL'), 'SQLite: no database URL');
    assert.ok(!(container.args ?? []).includes('--database'));
    assert.deepEqual(dataClaim('sqlite').spec.accessModes, ['ReadWriteOnce']);
    // A budget of one available with one replica would block every node drain.
    assert.equal(objectsOf('sqlite', 'PodDisruptionBudget').length, 0);
  });

  it('kubectl kustomize builds both variants into the objects read here', (context) => {
    const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      context.skip('kubectl is not installed: the kustomizations are read by this file only');
      return;
    }
    for (const variant of variantNames) {
      const built = spawnSync('kubectl', ['kustomize', variants[variant].dir], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(built.status, 0, `kubectl kustomize ${variants[variant].dir}: ${built.stderr}`);
      const ids = (objects: Json[]) => objects.map((object) => `${String(object['kind'])}/${(object['metadata'] as { name: string }).name}`).sort();
      const rendered = parseAllDocuments(built.stdout).map((document) => document.toJS() as Json);
      assert.deepEqual(ids(rendered), ids(variants[variant].objects), `${variant}: the same objects`);
      for (const object of rendered.filter((candidate) => candidate['kind'] !== 'Namespace')) assert.equal((object['metadata'] as { namespace?: string }).namespace, 'checkpoint', `${variant}: everything in the checkpoint namespace`);
    }
  });
});

describe('Docker Compose file (deploy/compose)', () => {
  interface Service {
    user?: string;
    read_only?: boolean;
    cap_drop?: string[];
    security_opt?: string[];
    ports?: string[];
    shm_size?: string;
    image?: string;
    profiles?: string[];
    entrypoint?: string[];
    environment?: Record<string, string>;
    command?: string[];
    volumes?: string[];
  }
  const compose = loadYaml(join(root, 'deploy', 'compose', 'compose.yaml'))[0] as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const services = Object.entries(compose.services);
  const inProfile = (profile: string | undefined) => services.filter(([, service]) => (profile === undefined ? service.profiles === undefined : (service.profiles ?? []).includes(profile)));
  const isControlPlane = (service: Service) => (service.entrypoint ?? []).includes('control-plane');
  const isCheckpoint = (service: Service) => service.image?.startsWith('private-checkpoint') === true && service.entrypoint === undefined;
  const controlPlanePort = (service: Service) => argValue(service.command ?? [], '--port') ?? '8400';

  it('runs every service as the non-root user, read-only, without capabilities, and publishes on loopback only', () => {
    for (const [name, service] of services) {
      assert.equal(service.user, '10001:10001', `${name}: user`);
      assert.equal(service.read_only, true, `${name}: read_only`);
      assert.deepEqual(service.cap_drop, ['ALL'], `${name}: cap_drop`);
      assert.ok(service.security_opt?.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port} is published on loopback`);
      assert.doesNotMatch(JSON.stringify(service), /no-sandbox|ALLOW_NO_SANDBOX/i);
    }
  });

  it('gives Chromium shared memory and takes tokens and passwords from the environment file, not the compose file', () => {
    for (const [name, service] of services.filter(([, candidate]) => isCheckpoint(candidate))) assert.ok(service.shm_size, `${name}: shm_size`);
    for (const [serviceName, service] of services) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        // `${NAME:?message}`, or `${NAME:-}` with an empty default where the variable may not be set yet (compose
        // reads every service's variables, whichever it starts): never a value written here.
        if (/TOKEN|PASSWORD|SECRET/.test(name)) assert.match(value, /^\$\{[A-Z_]+(:\?[^}]*|:-)\}$/, `${serviceName}: ${name} comes from .env, never written here`);
        if (name === 'CHECKPOINT_DATABASE_URL') assert.match(value, /^postgres(ql)?:\/\/[\w-]+:\$\{[A-Z_]+(:\?[^}]*|:-)\}@/, `${serviceName}: the database password comes from .env`);
      }
    }
  });

  it('by default: one control plane on SQLite and two checkpoint instances', () => {
    const defaults = inProfile(undefined);
    const controlPlanes = defaults.filter(([, service]) => isControlPlane(service));
    assert.equal(controlPlanes.length, 1);
    assert.equal(controlPlanes[0]?.[1].environment?.['CHECKPOINT_DATABASE_URL'], undefined, 'SQLite by default');
    assert.ok(defaults.some(([, service]) => isCheckpoint(service)));
  });

  it('profile replicas: PostgreSQL (unpublished, on a volume) and two or more replicas sharing one artifacts volume, each checkpoint instance on one of them', () => {
    const profile = inProfile('replicas');
    const postgres = profile.find(([, service]) => service.image?.startsWith('postgres:') === true);
    assert.ok(postgres, 'the official postgres image');
    assert.equal(postgres[1].ports, undefined, 'PostgreSQL is not published');
    assert.ok((postgres[1].volumes ?? []).some((volume) => /^[\w-]+:\/var\/lib\/postgresql/.test(volume)), 'its data on a named volume');

    const replicas = profile.filter(([, service]) => isControlPlane(service));
    assert.ok(replicas.length >= 2, `at least 2 replicas, got ${replicas.length}`);
    const ids = new Set<string>();
    const artifactVolumes = new Set<string>();
    const hostPorts = new Set<string>();
    for (const [name, service] of replicas) {
      assert.match(service.environment?.['CHECKPOINT_DATABASE_URL'] ?? '', new RegExp(`@${postgres[0]}:5432/`), `${name}: on the postgres service`);
      ids.add(service.environment?.['CHECKPOINT_REPLICA_ID'] ?? '');
      const dataDir = argValue(service.command ?? [], '--data');
      const volume = (service.volumes ?? []).find((candidate) => candidate.endsWith(`:${dataDir ?? ''}`))?.split(':')[0];
      assert.ok(volume !== undefined && compose.volumes !== undefined && volume in compose.volumes, `${name}: --data ${dataDir ?? '(none)'} is a named volume`);
      artifactVolumes.add(volume);
      for (const port of service.ports ?? []) hostPorts.add(port.split(':')[1] ?? '');
    }
    assert.equal(ids.size, replicas.length, 'each replica has its own CHECKPOINT_REPLICA_ID');
    assert.equal(artifactVolumes.size, 1, 'the replicas share one artifacts volume');
    assert.equal(hostPorts.size, replicas.length, 'each replica on a port of its own');

    // Compose has no load balancer: each instance names one replica of this profile.
    const instances = profile.filter(([, service]) => isCheckpoint(service));
    assert.ok(instances.length >= 2);
    const replicaUrls = new Set(replicas.map(([name, service]) => `http://${name}:${controlPlanePort(service)}`));
    for (const [name, service] of instances) assert.ok(replicaUrls.has(service.environment?.['CHECKPOINT_CONTROL_PLANE'] ?? ''), `${name}: connects to a replica of the profile`);
  });
});
