// Checks the schemas cannot express: references between objects (selectors, ports, Secrets, ConfigMaps,
// ServiceAccounts, volumes) and the rules every Concord workload follows (probes, ports, non-root, resources).
import { objectId } from "./schema";
import { CONCORD_GATEWAY, CONCORD_SERVICES, MIGRATE_JOB } from "./services";
import type { ConcordProcess, Finding, K8sObject, ValidateOptions } from "./types";

// Loose views of the fields read here; the schema check has already typed them strictly.
interface Port {
  name?: string;
  containerPort: number;
}
interface Probe {
  grpc?: { port: number; service?: string };
  httpGet?: { port: number | string };
  tcpSocket?: { port: number | string };
}
interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: Port[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef } }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean };
  volumes?: { name: string; secret?: { secretName?: string }; configMap?: { name: string } }[];
  restartPolicy?: string;
}
interface Workload {
  object: K8sObject;
  labels: Record<string, string>;
  pod: PodSpec;
}

const spec = (o: K8sObject) => (o.spec ?? {}) as Record<string, unknown>;
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Deployments, StatefulSets, DaemonSets and Jobs with their pod template. */
export function workloads(objects: readonly K8sObject[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    if (!["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind)) continue;
    const template = spec(o).template as
      | { metadata?: { labels?: Record<string, string> }; spec?: PodSpec }
      | undefined;
    if (!template?.spec) continue;
    out.push({ object: o, labels: template.metadata?.labels ?? {}, pod: template.spec });
  }
  return out;
}

/** Every reference between the objects resolves, and every workload follows the house rules. */
export function checkReferences(objects: readonly K8sObject[], options: ValidateOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (o: K8sObject | undefined, path: string | undefined, message: string) =>
    findings.push({ object: o ? objectId(o) : "-", ...(path ? { path } : {}), message });

  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    if (seen.has(id)) add(o, undefined, "defined twice");
    seen.add(id);
  }
  const named = (kind: string) =>
    new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  const secrets = named("Secret");
  const configMaps = named("ConfigMap");
  const services = named("Service");
  const accounts = named("ServiceAccount");
  const all = workloads(objects);

  const checkKey = (
    o: K8sObject,
    path: string,
    kind: "Secret" | "ConfigMap",
    ref: KeyRef | { name: string },
  ) => {
    const external = kind === "Secret" ? options.externalSecrets : options.externalConfigMaps;
    const target = (kind === "Secret" ? secrets : configMaps).get(ref.name);
    if (!target) {
      if (!external?.includes(ref.name))
        add(o, path, `${kind} ${ref.name} is neither rendered nor declared external`);
      return;
    }
    if ("key" in ref) {
      const keys = new Set([
        ...Object.keys((target.data ?? {}) as object),
        ...Object.keys((target.stringData ?? {}) as object),
      ]);
      if (!keys.has(ref.key) && !ref.optional) add(o, path, `${kind} ${ref.name} has no key ${ref.key}`);
    }
  };

  for (const w of all) {
    const o = w.object;
    const s = spec(o);
    if (o.kind !== "Job") {
      const selector = (s.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      if (!matches(selector, w.labels))
        add(o, "spec.selector", "selector does not match the pod template's labels");
    }
    if (o.kind === "StatefulSet" && !services.has(String(s.serviceName))) {
      add(o, "spec.serviceName", `no Service ${String(s.serviceName)}`);
    }
    const account = w.pod.serviceAccountName;
    if (account && account !== "default" && !accounts.has(account)) {
      add(o, "spec.template.spec.serviceAccountName", `no ServiceAccount ${account}`);
    }
    if (w.pod.securityContext?.runAsNonRoot !== true) {
      add(o, "spec.template.spec.securityContext.runAsNonRoot", "pods must run as non-root");
    }
    const claimNames = ((s.volumeClaimTemplates ?? []) as { metadata?: { name?: string } }[]).map(
      (c) => c.metadata?.name,
    );
    const volumes = new Set([...(w.pod.volumes ?? []).map((v) => v.name), ...claimNames]);
    (w.pod.volumes ?? []).forEach((v, i) => {
      const path = `spec.template.spec.volumes[${i}]`;
      if (v.secret?.secretName) checkKey(o, path, "Secret", { name: v.secret.secretName });
      if (v.configMap) checkKey(o, path, "ConfigMap", { name: v.configMap.name });
    });
    const containers = [...(w.pod.initContainers ?? []), ...w.pod.containers];
    containers.forEach((c, ci) => {
      const base = `spec.template.spec.containers[${ci}]`;
      (c.env ?? []).forEach((e, i) => {
        const ref = e.valueFrom;
        if (ref?.secretKeyRef) checkKey(o, `${base}.env[${i}]`, "Secret", ref.secretKeyRef);
        if (ref?.configMapKeyRef) checkKey(o, `${base}.env[${i}]`, "ConfigMap", ref.configMapKeyRef);
      });
      (c.envFrom ?? []).forEach((e, i) => {
        if (e.secretRef) checkKey(o, `${base}.envFrom[${i}]`, "Secret", e.secretRef);
        if (e.configMapRef) checkKey(o, `${base}.envFrom[${i}]`, "ConfigMap", e.configMapRef);
      });
      (c.volumeMounts ?? []).forEach((m, i) => {
        if (!volumes.has(m.name)) add(o, `${base}.volumeMounts[${i}]`, `no volume ${m.name}`);
      });
      const ports = c.ports ?? [];
      for (const [kind, probe] of [
        ["startupProbe", c.startupProbe],
        ["readinessProbe", c.readinessProbe],
        ["livenessProbe", c.livenessProbe],
      ] as const) {
        const port = probe?.grpc?.port ?? probe?.httpGet?.port ?? probe?.tcpSocket?.port;
        if (port === undefined) continue;
        const ok =
          typeof port === "number"
            ? ports.some((p) => p.containerPort === port)
            : ports.some((p) => p.name === port);
        if (!ok) add(o, `${base}.${kind}`, `probe port ${port} is not a port of container ${c.name}`);
      }
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) {
        add(o, `${base}.resources`, "every container needs cpu and memory requests and a memory limit");
      }
      if (c.securityContext?.allowPrivilegeEscalation !== false) {
        add(o, `${base}.securityContext.allowPrivilegeEscalation`, "must be false");
      }
    });
  }

  for (const svc of services.values()) {
    const s = spec(svc) as {
      selector?: Record<string, string>;
      ports?: { name?: string; targetPort?: number | string; port: number }[];
    };
    if (!s.selector) continue;
    const targets = all.filter((w) => w.object.kind !== "Job" && matches(s.selector, w.labels));
    if (targets.length === 0) {
      add(svc, "spec.selector", "selects no pods");
      continue;
    }
    (s.ports ?? []).forEach((p, i) => {
      const target = p.targetPort ?? p.port;
      const ok = targets.some((w) =>
        w.pod.containers.some((c) =>
          (c.ports ?? []).some((cp) =>
            typeof target === "number" ? cp.containerPort === target : cp.name === target,
          ),
        ),
      );
      if (!ok) add(svc, `spec.ports[${i}].targetPort`, `no selected container has port ${target}`);
    });
  }

  for (const pdb of objects.filter((o) => o.kind === "PodDisruptionBudget")) {
    const selector = (spec(pdb).selector as { matchLabels?: Record<string, string> } | undefined)
      ?.matchLabels;
    if (!all.some((w) => w.object.kind !== "Job" && matches(selector, w.labels))) {
      add(pdb, "spec.selector", "selects no Deployment or StatefulSet");
    }
  }
  return findings;
}

/** Concord's own rules: each service's and the gateway's Deployment, Service, PDB and probes, and the migration Job. */
export function checkConcord(objects: readonly K8sObject[]): Finding[] {
  const findings: Finding[] = [];
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);
  const add = (o: K8sObject | undefined, path: string | undefined, message: string, name = "-") =>
    findings.push({ object: o ? objectId(o) : name, ...(path ? { path } : {}), message });
  const images = new Set<string>();
  const base = "spec.template.spec.containers[0]";

  /** The Deployment, Service and PDB every Concord process has; returns the Deployment's container. */
  const checkProcess = (
    proc: ConcordProcess,
    secrets: string[],
    headless: boolean,
  ): Container | undefined => {
    const name = `concord-${proc.name}`;
    const deployment = find("Deployment", name);
    let container: Container | undefined;
    if (!deployment) add(undefined, undefined, "missing", `Deployment/${name}`);
    else {
      container = workloads([deployment])[0]?.pod.containers[0];
      if (!container) add(deployment, "spec.template.spec.containers", "no container");
      else checkContainer(deployment, container, proc, secrets);
    }

    const service = find("Service", name);
    const ports =
      (service?.spec as { clusterIP?: string; ports?: { name?: string; port: number }[] } | undefined) ?? {};
    if (!service) add(undefined, undefined, "missing", `Service/${name}`);
    else if (headless && ports.clusterIP !== "None")
      add(service, "spec.clusterIP", "must be headless (None): clients balance per pod");
    else if (!headless && ports.clusterIP === "None")
      add(service, "spec.clusterIP", "must not be headless: clients connect to one stable address");
    else if (!ports.ports?.some((p) => p.name === "grpc" && p.port === proc.port)) {
      add(service, "spec.ports", `must expose grpc on ${proc.port}`);
    }
    if (!find("PodDisruptionBudget", name))
      add(undefined, undefined, "missing", `PodDisruptionBudget/${name}`);
    return container;
  };

  const checkContainer = (deployment: K8sObject, c: Container, proc: ConcordProcess, secrets: string[]) => {
    if (c.image) images.add(c.image);
    if (c.args?.[0] !== proc.name)
      add(deployment, `${base}.args`, `must start the ${proc.name} process (args: ["${proc.name}"])`);
    const env = new Map((c.env ?? []).map((e) => [e.name, e]));
    if (env.get("CONCORD_ADDR")?.value !== `0.0.0.0:${proc.port}`) {
      add(deployment, `${base}.env`, `CONCORD_ADDR must be 0.0.0.0:${proc.port}`);
    }
    for (const secret of secrets) {
      if (!env.get(secret)?.valueFrom?.secretKeyRef)
        add(deployment, `${base}.env`, `${secret} must come from a Secret`);
    }
    if (!(c.envFrom ?? []).some((e) => e.configMapRef?.name.startsWith("concord-config"))) {
      add(deployment, `${base}.envFrom`, "must read the concord-config ConfigMap");
    }
    const port = (n: string) => c.ports?.find((p) => p.name === n)?.containerPort;
    if (port("grpc") !== proc.port) add(deployment, `${base}.ports`, `port grpc must be ${proc.port}`);
    if (port("metrics") !== proc.port + 1)
      add(deployment, `${base}.ports`, `port metrics must be ${proc.port + 1}`);
    if (c.readinessProbe?.grpc?.port !== proc.port || (c.readinessProbe.grpc.service ?? "") !== proc.health) {
      add(
        deployment,
        `${base}.readinessProbe`,
        `must be a gRPC probe of ${proc.health || '""'} on ${proc.port}`,
      );
    }
    for (const probe of ["livenessProbe", "startupProbe"] as const) {
      if (c[probe]?.grpc?.port !== proc.port)
        add(deployment, `${base}.${probe}`, `must be a gRPC probe on ${proc.port}`);
    }
    const annotations = (spec(deployment).template as { metadata?: { annotations?: Record<string, string> } })
      .metadata?.annotations;
    if (
      annotations?.["prometheus.io/scrape"] !== "true" ||
      annotations["prometheus.io/port"] !== String(proc.port + 1)
    ) {
      add(
        deployment,
        "spec.template.metadata.annotations",
        `prometheus.io/scrape and prometheus.io/port ${proc.port + 1}`,
      );
    }
    if (
      c.securityContext?.readOnlyRootFilesystem &&
      !(c.volumeMounts ?? []).some((m) => m.mountPath === "/tmp")
    ) {
      add(deployment, `${base}.volumeMounts`, "a read-only root needs a writable /tmp (tsx's cache)");
    }
  };

  for (const svc of CONCORD_SERVICES) checkProcess(svc, ["DATABASE_URL", "CONCORD_TOKEN_SECRET"], true);

  // The gateway: one ClusterIP address for clients; each service's backend address is that service's headless
  // Service through the dns resolver, so its round_robin channel sees (and spreads calls over) every pod.
  const gateway = checkProcess(CONCORD_GATEWAY, ["CONCORD_TOKEN_SECRET"], false);
  if (gateway) {
    const env = new Map((gateway.env ?? []).map((e) => [e.name, e.value]));
    const deployment = find("Deployment", `concord-${CONCORD_GATEWAY.name}`);
    for (const svc of CONCORD_SERVICES) {
      const expected = `dns:///concord-${svc.name}:${svc.port}`;
      const fqdn = new RegExp(`^dns:///concord-${svc.name}(\\.[\\w.-]+)?:${svc.port}$`);
      if (!fqdn.test(env.get(svc.addressVar) ?? ""))
        add(deployment, `${base}.env`, `${svc.addressVar} must be ${expected} (the headless Service)`);
    }
  }

  const job = find("Job", MIGRATE_JOB);
  if (!job) add(undefined, undefined, "missing", `Job/${MIGRATE_JOB}`);
  else {
    const c = workloads([job])[0]?.pod.containers[0];
    if (c?.args?.[0] !== "migrate") add(job, "spec.template.spec.containers[0].args", 'must run ["migrate"]');
    if (c?.image) images.add(c.image);
    if (!c?.env?.some((e) => e.name === "DATABASE_URL" && e.valueFrom?.secretKeyRef)) {
      add(job, "spec.template.spec.containers[0].env", "DATABASE_URL must come from a Secret");
    }
  }
  if (images.size > 1)
    add(undefined, undefined, `one image runs every process, found ${[...images].join(", ")}`);
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("concord-config"));
  if (!(config?.data as Record<string, string> | undefined)?.NATS_URL) {
    add(
      config,
      "data.NATS_URL",
      "the concord-config ConfigMap must set NATS_URL",
      "ConfigMap/concord-config",
    );
  }
  return findings;
}
