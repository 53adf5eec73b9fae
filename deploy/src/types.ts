/** One Kubernetes object as rendered by kustomize. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** A problem found in the rendered manifests; any finding fails validation. */
export interface Finding {
  /** `Kind/name` of the object, or `-` for the whole set. */
  object: string;
  /** Dotted path inside the object, when known. */
  path?: string;
  message: string;
}

/** One Concord process as the manifests must run it: a service or the gateway. */
export interface ConcordProcess {
  /** The image's command (and, for a service, its folder under services/): `relation`, ..., `gateway`. */
  name: string;
  /** Default gRPC port (CONCORD_ADDR); metrics listen on port + 1. */
  port: number;
  /** The grpc.health.v1 service name the readiness probe asks for (`""`: the whole server). */
  health: string;
}

/** One standalone Concord service. */
export interface ConcordService extends ConcordProcess {
  /** The gateway's variable naming this service's address (CONCORD_RELATION_ADDR, ...). */
  addressVar: string;
}

/** How to validate one kustomization. */
export interface ValidateOptions {
  /** Secrets the manifests use but do not contain (created by an operator or out of band). */
  externalSecrets?: string[];
  /** ConfigMaps the manifests use but do not contain. */
  externalConfigMaps?: string[];
}

/** A kustomization shipped in deploy/, with what it may reference without containing. */
export interface Overlay extends ValidateOptions {
  name: string;
  /** Folder relative to deploy/. */
  dir: string;
}
