// The custom resources the overlays use, typed after their upstream CRDs for the schema check (schema.ts).
// They cover the fields Concord's manifests use plus their common neighbours; an unknown field is an error, as
// with the built-in kinds. Extend them when an overlay needs more of the CRD.

import type { Affinity, ResourceRequirements, Toleration } from "kubernetes-types/core/v1";
import type { LabelSelector, ObjectMeta } from "kubernetes-types/meta/v1";

/** monitoring.coreos.com/v1 PodMonitor (Prometheus Operator), the parts Concord uses. */
export interface PodMonitor {
  apiVersion: "monitoring.coreos.com/v1";
  kind: "PodMonitor";
  metadata: ObjectMeta;
  spec: {
    selector: LabelSelector;
    namespaceSelector?: { any?: boolean; matchNames?: string[] };
    jobLabel?: string;
    podTargetLabels?: string[];
    podMetricsEndpoints: {
      port?: string;
      path?: string;
      scheme?: "http" | "https";
      interval?: string;
      scrapeTimeout?: string;
      honorLabels?: boolean;
      relabelings?: Record<string, unknown>[];
      metricRelabelings?: Record<string, unknown>[];
    }[];
  };
}

/** postgresql.cnpg.io/v1 Cluster (CloudNativePG), the parts Concord uses. */
export interface CnpgCluster {
  apiVersion: "postgresql.cnpg.io/v1";
  kind: "Cluster";
  metadata: ObjectMeta;
  spec: {
    instances: number;
    imageName?: string;
    primaryUpdateStrategy?: "supervised" | "unsupervised";
    primaryUpdateMethod?: "switchover" | "restart";
    bootstrap?: {
      initdb?: { database?: string; owner?: string; secret?: { name: string }; encoding?: string };
    };
    postgresql?: { parameters?: Record<string, string>; pg_hba?: string[] };
    storage?: { size?: string; storageClass?: string };
    walStorage?: { size?: string; storageClass?: string };
    resources?: ResourceRequirements;
    affinity?: {
      enablePodAntiAffinity?: boolean;
      topologyKey?: string;
      podAntiAffinityType?: "preferred" | "required";
      nodeSelector?: Record<string, string>;
      tolerations?: Toleration[];
      additionalPodAffinity?: Affinity["podAffinity"];
      additionalPodAntiAffinity?: Affinity["podAntiAffinity"];
    };
    monitoring?: { enablePodMonitor?: boolean };
    enableSuperuserAccess?: boolean;
  };
}
