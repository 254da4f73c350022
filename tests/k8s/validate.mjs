// Validates one rendered kustomize overlay (multi-document YAML on stdin) for
// tests/integration/k8s.sh. Every object must pass its Kubernetes (or Prometheus Operator)
// schema; workloads must follow the deployment rules of deploy/k8s. Prints one line per finding:
//   OBJ KIND NAMESPACE/NAME          valid object
//   INVALID KIND NAME: WHY           schema violation (or a kind with no schema here)
//   POLICY KIND NAME: WHY            a deployment rule broken
//   PROBE WORKLOAD TYPE PATH PORT    an httpGet probe, named ports resolved to numbers
//   LISTEN WORKLOAD PORT             the port of the container's --listen argument
//   FLAGS WORKLOAD PROGRAM FLAG...   the options a container passes to its program
// Exit status 0 when there was neither INVALID nor POLICY.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const input = readFileSync(0, "utf8");
const docs = parseAllDocuments(input).map((d) => d.toJSON()).filter((d) => d);
let bad = 0;
const out = (line) => console.log(line);
const problem = (tag, o, why) => {
  bad++;
  out(`${tag} ${o.kind} ${o.metadata?.name}: ${why}`);
};

async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
  const path = group.startsWith("monitoring.coreos.com/")
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : apiVersion.includes("/") ? `kubernetes-models/${apiVersion}` : `kubernetes-models/${apiVersion}`;
  try {
    const mod = await import(`${path}/${kind}`);
    return mod[kind];
  } catch {
    return null;
  }
}

for (const o of docs) {
  const Model = await modelFor(o.apiVersion, o.kind);
  if (!Model) {
    problem("INVALID", o, `no schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
    out(`OBJ ${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`);
  } catch (e) {
    problem("INVALID", o, String(e.message).replace(/\s+/g, " ").slice(0, 400));
  }
}

const byKind = (k) => docs.filter((o) => o.kind === k);
const workloads = docs.filter((o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind));
const namespaces = new Map(byKind("Namespace").map((n) => [n.metadata.name, n]));

for (const w of workloads) {
  const pod = w.spec.template.spec;
  const name = w.metadata.name;
  const isPoller = w.metadata.labels?.["app.kubernetes.io/name"] === "shelly-tui";
  const privileged = pod.hostNetwork || (pod.volumes ?? []).some((v) => v.hostPath);
  const ns = namespaces.get(w.metadata.namespace);
  const level = ns?.metadata?.labels?.["pod-security.kubernetes.io/enforce"];
  if (!ns) problem("POLICY", w, `namespace ${w.metadata.namespace} is not part of the overlay`);
  else if (level !== (privileged ? "privileged" : "restricted"))
    problem("POLICY", w, `namespace enforce=${level}, want ${privileged ? "privileged" : "restricted"}`);
  if (w.spec.replicas !== 1) problem("POLICY", w, `replicas ${w.spec.replicas}, want 1`);
  if (w.kind === "Deployment" && w.spec.strategy?.type !== "Recreate")
    problem("POLICY", w, "strategy must be Recreate (one writer, one radio)");
  const podSeccomp = pod.securityContext?.seccompProfile?.type;
  for (const c of pod.containers) {
    const sc = c.securityContext ?? {};
    const where = `${name}/${c.name}`;
    if ((sc.seccompProfile?.type ?? podSeccomp) !== "RuntimeDefault")
      problem("POLICY", w, `${where}: seccomp RuntimeDefault`);
    if (sc.allowPrivilegeEscalation !== false) problem("POLICY", w, `${where}: allowPrivilegeEscalation`);
    if (sc.readOnlyRootFilesystem !== true) problem("POLICY", w, `${where}: readOnlyRootFilesystem`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) problem("POLICY", w, `${where}: capabilities drop ALL`);
    if ((sc.capabilities?.add ?? []).length) problem("POLICY", w, `${where}: capabilities added`);
    for (const k of ["requests", "limits"])
      for (const r of ["cpu", "memory"])
        if (!c.resources?.[k]?.[r]) problem("POLICY", w, `${where}: resources.${k}.${r}`);
    const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const t of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const g = c[t]?.httpGet;
      if (!g) continue;
      const port = typeof g.port === "number" ? g.port : ports.get(g.port);
      if (port === undefined) problem("POLICY", w, `${where}: ${t} port ${g.port} is not a container port`);
      out(`PROBE ${where} ${t} ${g.path} ${port}`);
    }
    const args = c.args ?? [];
    const prog = (c.command ?? ["/usr/bin/shelly-tui"])[0].split("/").pop();
    const flags = args.filter((a) => /^--[a-z]/.test(String(a)));
    if (flags.length) out(`FLAGS ${where} ${prog} ${flags.join(" ")}`);
    const li = args.indexOf("--listen");
    if (li >= 0) out(`LISTEN ${where} ${String(args[li + 1]).split(":").pop()}`);
    if (isPoller) {
      const nonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
      if (nonRoot !== true || !(uid > 0)) problem("POLICY", w, `${where}: runAsNonRoot with a UID`);
      if (c.livenessProbe?.httpGet?.path !== "/healthz") problem("POLICY", w, `${where}: liveness /healthz`);
      if (c.readinessProbe?.httpGet?.path !== "/readyz") problem("POLICY", w, `${where}: readiness /readyz`);
      if (!c.startupProbe) problem("POLICY", w, `${where}: startup probe`);
      if (li < 0 || String(args[li + 1]).startsWith("127.")) problem("POLICY", w, `${where}: --listen must not be loopback only`);
      const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
      const vol = (path) => (pod.volumes ?? []).find((v) => v.name === mounts.get(path));
      const claim = vol("/data")?.persistentVolumeClaim?.claimName;
      if (!claim || !byKind("PersistentVolumeClaim").some((p) => p.metadata.name === claim))
        problem("POLICY", w, `${where}: /data from a PVC of the overlay`);
      if (!vol("/tmp")?.emptyDir) problem("POLICY", w, `${where}: /tmp emptyDir (read-only root)`);
      const cm = vol("/etc/shelly-tui")?.configMap?.name;
      if (!cm || !byKind("ConfigMap").some((m) => m.metadata.name === cm))
        problem("POLICY", w, `${where}: configuration from a ConfigMap of the overlay`);
      const sec = vol("/run/secrets/shelly-tui")?.secret?.secretName;
      const secret = byKind("Secret").find((s) => s.metadata.name === sec);
      for (const key of ["device-password", "opnsense-key", "opnsense-secret"])
        if (!secret || !(key in (secret.data ?? {})))
          problem("POLICY", w, `${where}: secret file ${key} mounted from a Secret of the overlay`);
    }
  }
  if (!isPoller) {
    if (!pod.nodeSelector || !Object.keys(pod.nodeSelector).length)
      problem("POLICY", w, "the agent is pinned to the WiFi node by a nodeSelector");
    if (!(pod.volumes ?? []).some((v) => v.hostPath?.path === "/run/dbus/system_bus_socket"))
      problem("POLICY", w, "the agent needs the host's D-Bus socket");
    const pvcs = (pod.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((c) => c);
    if (!pvcs.some((c) => byKind("PersistentVolumeClaim").some((p) => p.metadata.name === c)))
      problem("POLICY", w, "the agent keeps its token on a PVC of the overlay (the secret works once)");
  }
}

// Services select a workload's Pods and name one of its container ports; ServiceMonitors select a
// Service and name one of its ports.
const services = byKind("Service");
for (const s of services) {
  const sel = Object.entries(s.spec.selector ?? {});
  const w = workloads.find((x) => sel.every(([k, v]) => x.spec.template.metadata.labels?.[k] === v));
  if (!w) {
    problem("POLICY", s, "selects no workload of the overlay");
    continue;
  }
  const names = w.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
  for (const p of s.spec.ports)
    if (typeof p.targetPort === "string" && !names.includes(p.targetPort))
      problem("POLICY", s, `targetPort ${p.targetPort} is not a container port`);
}
for (const m of byKind("ServiceMonitor")) {
  const sel = Object.entries(m.spec.selector?.matchLabels ?? {});
  const s = services.find((x) => sel.every(([k, v]) => x.metadata.labels?.[k] === v));
  if (!s) problem("POLICY", m, "selects no Service of the overlay");
  else if (s.metadata.namespace !== m.metadata.namespace) problem("POLICY", m, "not in the Service's namespace");
  for (const e of m.spec.endpoints)
    if (s && !s.spec.ports.some((p) => p.name === e.port)) problem("POLICY", m, `port ${e.port} is not a Service port`);
}
process.exit(bad ? 1 : 0);
